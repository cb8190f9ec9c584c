/**
 * This host's endpoint records in etcd, against the CNI plugin's local attachment records: what a record for
 * an attachment here says, and the reconcile that makes etcd's follow the local ones every resync period.
 */
import { createHash } from 'node:crypto';
import { currentBootId, networkState, type AttachmentRecord } from '../contract/mod.ts';
import { messageOf } from '../errors/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { Endpoint, NetworkMeta } from '../networks/mod.ts';
import type { NetworkStore } from '../store/mod.ts';
import { byFamily } from '../netaddr/family.ts';

/** What an endpoint registration asks for (the plugin's EndpointRequest, as received). */
export interface EndpointInput {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly containerID: string;
  readonly ifname: string;
  readonly address: string;
  readonly address6?: string | undefined;
  readonly mac: string;
}

/** This host as its endpoint records name it. */
export interface ThisHost {
  /** A label for people; which records are this host's goes by public address. */
  readonly nodeName: string;
  readonly publicIP: string;
}

/** An endpoint record for an attachment on this host. */
export function endpointRecord(meta: NetworkMeta, a: EndpointInput, host: ThisHost): Endpoint {
  return {
    Name: a.name,
    EndpointID: createHash('sha256').update(`${meta.Id}/${a.containerID}/${a.ifname}`).digest('hex'),
    NetworkID: meta.Id,
    Network: meta.Name,
    Host: host.nodeName,
    HostIP: host.publicIP,
    ContainerID: a.containerID,
    Interface: a.ifname,
    IPv4Address: a.address,
    IPv6Address: a.address6 ?? '',
    MacAddress: a.mac,
    Aliases: a.aliases,
    Created: new Date().toISOString(),
  };
}

const recordsOf = (dataDir: string, meta: NetworkMeta) => networkState({ dataDir, network: meta.Name }).records;

/** This boot's attachments of the network on this host, as the CNI plugin recorded them. */
export function localAttachments(dataDir: string, meta: NetworkMeta): AttachmentRecord[] {
  const boot = currentBootId();
  return recordsOf(dataDir, meta)
    .list()
    .flatMap((e) => (e.record?.bootId === boot ? [e.record] : []));
}

export interface ReconcileContext {
  readonly store: NetworkStore;
  readonly log: Logger;
  readonly dataDir: string;
  readonly host: ThisHost;
}

/**
 * This host's endpoint records in etcd follow the plugin's local attachment records: a missing one (etcd was
 * unreachable at ADD, or the record was lost) is registered again, one without a local attachment (its DEL
 * could not reach the daemon) is removed. `known` is the network's endpoints as this host's watch has them.
 *
 * A record is this host's when its HostIP is this host's public address (issue 24), never by node name:
 * hosts left at one host name (cloned VMs) removed each other's records every period as unattached here.
 * The daemon claimed that address as its own at start (host-identity.ts), so no other live host has it.
 */
export async function reconcileEndpoints(meta: NetworkMeta, known: readonly Endpoint[], ctx: ReconcileContext): Promise<void> {
  const local = localAttachments(ctx.dataDir, meta);
  const mine = known.filter((e) => e.HostIP === ctx.host.publicIP);
  for (const r of local) {
    const ep = r.endpoint;
    if (!ep || r.state !== 'added' || mine.some((e) => e.Name === ep.name && e.ContainerID === r.containerID)) continue;
    // Read again just before: a DEL that began since the listing has marked the record `removing`.
    if (recordsOf(ctx.dataDir, meta).read(r.containerID, r.ifname)?.record?.state !== 'added') continue;
    await ctx.store
      .registerEndpoint(
        meta,
        endpointRecord(
          meta,
          {
            name: ep.name,
            aliases: ep.aliases,
            containerID: r.containerID,
            ifname: r.ifname,
            address: byFamily(r.ips)[4] ?? '',
            address6: byFamily(r.ips)[6],
            mac: ep.mac,
          },
          ctx.host,
        ),
      )
      .then(
        () => ctx.log.info('re-registered an endpoint missing from etcd', { network: meta.Name, name: ep.name }),
        (e) => ctx.log.warn(`cannot re-register ${ep.name}: ${messageOf(e)}`),
      );
  }
  // Any local record protects its endpoint, also one still being added (registered, record not yet saved).
  for (const e of mine) {
    if (!local.some((r) => r.containerID === e.ContainerID && r.ifname === e.Interface)) {
      // Judged again on the record as etcd has it then: still this container's and still this host's.
      if (await ctx.store.unregisterEndpoint(meta, e.Name, e.ContainerID, { hostIP: ctx.host.publicIP }))
        ctx.log.info('removed an endpoint record with no attachment on this host', { network: meta.Name, name: e.Name });
    }
  }
}
