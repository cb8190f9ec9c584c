/**
 * ADD: connect a container to its network on this host.
 *
 * Order matters for crash safety. The attachment record is created first (pkg/attach's write-ahead lifecycle,
 * which Docker's Join shares; O_EXCL also refuses a second ADD for the same container and interface), then
 * addresses are reserved and written into it, then
 * the kernel is changed. Whatever point the process dies at, the record (or, before it, nothing) tells DEL
 * what to remove; the host end of the veth has a name derived from the attachment, so it is found even if
 * the record never got past `adding`. On an error, everything this ADD made is rolled back before it
 * reports; the bridge, shared by the network's containers, stays.
 */
import { WeftError } from '../errors/mod.ts';
import { hostSysctls, keepHostSysctls } from '../forwarding/mod.ts';
import { currentNetns, Netlink, openNetns, type Netns } from '../kernel/mod.ts';
import { allocate, ownerOf } from '../ipam/mod.ts';
import { mergeResults, readPrevResult } from '../cni/result.ts';
import type { CniResult } from '../cni/types.ts';
import {
  applyAttachment,
  guardPort,
  planAttachment,
  readSubnetFile,
  resultOf,
  writeAhead,
  type AttachmentPlan,
  type SubnetFile,
  type Undo,
} from '../attach/mod.ts';
import type { AttachContext } from './context.ts';
import { ensureMasquerade, masqSpecOf } from './masq.ts';
import { hostVethName } from '../networks/names.ts';
import { registerEndpoint, unregisterEndpoint } from '../contract/mod.ts';
import { stderrLog } from '../log/stderr.ts';
import { currentBootId, type AttachmentRecord } from '../contract/mod.ts';
import { reclaimPreviousBoot, teardown } from '../contract/mod.ts';
import { networkState, type NetworkState } from '../contract/mod.ts';
import { byFamily, familyOf } from '../netaddr/family.ts';

export async function addAttachment(ctx: AttachContext): Promise<CniResult> {
  const { cfg, env } = ctx;
  const prev = cfg.prevResult === undefined ? undefined : readPrevResult(cfg.prevResult);
  const lease = readSubnetFile(cfg.subnetFile);
  const ns = openNetns(env.netns);
  try {
    if (ns.id === currentNetnsId()) {
      throw new WeftError('WEFT_INVALID_NETNS', `CNI_NETNS ${env.netns} is the plugin's own network namespace, not a container's`);
    }
    const host = Netlink.open();
    const cont = Netlink.open({ netns: ns });
    try {
      if (await cont.findLink(env.ifname)) {
        throw new WeftError('WEFT_ALREADY_EXISTS', `interface ${env.ifname} already exists in ${env.netns}`);
      }
      const result = await attach(ctx, lease, ns, host, cont);
      return prev ? mergeResults(prev, result) : result;
    } finally {
      host.close();
      cont.close();
    }
  } finally {
    ns.close();
  }
}

function currentNetnsId(): string {
  const self = currentNetns();
  try {
    return self.id;
  } finally {
    self.close();
  }
}

async function attach(ctx: AttachContext, lease: SubnetFile, ns: Netns, host: Netlink, cont: Netlink): Promise<CniResult> {
  const { cfg, env } = ctx;
  const state = networkState(cfg);
  const bootId = currentBootId();
  const owner = ownerOf(env.containerID, env.ifname);
  const hostVeth = hostVethName(cfg.network, env.containerID, env.ifname);

  const existing = state.records.read(env.containerID, env.ifname);
  if (existing?.record && existing.record.bootId !== bootId) {
    // A container restarted after a reboot keeps its ID; what the old record describes died with the boot.
    await teardown(state, existing, host);
  }
  const record = {
    cniNetwork: cfg.cniNetwork,
    network: cfg.network,
    containerID: env.containerID,
    ifname: env.ifname,
    netns: env.netns,
    hostVeth,
    bridge: cfg.bridge,
    bootId,
    ips: [],
  };
  const which = `container ${env.containerID} already has interface ${env.ifname} on network ${cfg.cniNetwork}`;
  const exists = `${which}; DEL it before adding it again`;
  return writeAhead({ state, record, exists }, async (a) => {
    const ips = await reserveAddresses(ctx, lease, state, owner, host, a.undo);
    const routedDsts = new Set((await cont.listRoutes()).map((r) => r.dst));
    const plan = planAttachment({ cfg, lease, ips, hostVeth, ifname: env.ifname, routedDsts });
    // The MAC the container end will have, when weft chooses it (the port guard lets it send with that alone).
    let next: AttachmentRecord = { ...a.record, ips: plan.container.addresses, ...(plan.container.mac && { mac: plan.container.mac }) };
    const endpoint = await registerName(ctx, plan, a.undo);
    if (endpoint) next = { ...next, endpoint };
    a.save(next);

    enableForwarding(lease, host);
    const macs = await applyAttachment(plan, { host, cont, ns }, a.undo, async (mac) => {
      // The record first: the daemon's pass reads it after listing the guard, so it never takes these elements
      // away. Saved again only when the kernel chose the MAC (no IPv4 address, none requested).
      if (mac && mac !== a.record.mac) a.save({ ...a.record, mac });
      await guardPort(a.record);
    });
    if (cfg.ipMasq ?? !lease.ipMasq) ensureMasquerade(masqSpecOf(cfg.network, lease), state.dir, bootId);
    const dns =
      cfg.dns ?? (cfg.network !== '' ? { nameservers: [plan.bridge.gateways[0]!.split('/')[0]!], search: [cfg.network] } : undefined);
    const result = resultOf(plan, macs, env.netns, dns);
    return { value: result, added: { result } };
  });
}

/**
 * On a named network, claims the container's name in etcd through the local daemon, before any kernel change,
 * so a duplicate name fails the ADD with Docker's message and nothing is left behind. A named ADD needs the
 * daemon (it holds the etcd connection): unreachable, the ADD fails with "try again later". An unnamed
 * attachment is registered under its container ID when the daemon is there, and works without it.
 */
async function registerName(ctx: AttachContext, plan: AttachmentPlan, undo: Undo): Promise<AttachmentRecord['endpoint']> {
  const { cfg, env } = ctx;
  if (cfg.network === '') return undefined;
  const name = cfg.endpointName ?? env.containerID.slice(0, 12);
  const mac = plan.container.mac ?? '';
  try {
    await registerEndpoint(cfg.daemonSocket, cfg.network, {
      name,
      aliases: cfg.aliases,
      containerID: env.containerID,
      ifname: env.ifname,
      address: byFamily(plan.container.addresses)[4],
      address6: byFamily(plan.container.addresses)[6],
      mac,
    });
  } catch (e) {
    if (!(e instanceof WeftError && e.code === 'WEFT_TRY_AGAIN')) throw e;
    if (cfg.endpointName !== undefined)
      throw new WeftError('WEFT_TRY_AGAIN', `cannot register ${name} on network ${cfg.network}: ${e.message}`, { cause: e });
    stderrLog.warn(`${e.message}; ${env.containerID.slice(0, 12)} is attached without a name record`);
    return undefined;
  }
  undo.push(`unregister ${name}`, () => unregisterEndpoint(cfg.daemonSocket, cfg.network, name, env.containerID));
  return { name, aliases: cfg.aliases, mac };
}

async function reserveAddresses(
  ctx: AttachContext,
  lease: SubnetFile,
  state: NetworkState,
  owner: string,
  host: Netlink,
  undo: Undo,
): Promise<string[]> {
  const { cfg } = ctx;
  for (const want of cfg.requestedIPs) {
    if (!lease.pools.some((p) => p.family === familyOf(want))) {
      throw new WeftError(
        'WEFT_ADDRESS_UNAVAILABLE',
        `requested address ${want} has no IPv${familyOf(want)} subnet on this host (lease ${lease.file})`,
      );
    }
  }
  const ips: string[] = [];
  for (const pool of lease.pools) {
    const requested = cfg.requestedIPs.find((ip) => familyOf(ip) === pool.family);

    let ip: string;
    try {
      ip = allocate(pool, state.addresses, owner, requested);
    } catch (e) {
      // Addresses still held by attachments of an earlier boot are free in fact: reclaim them and retry once.
      if (
        !(e instanceof WeftError && e.code === 'WEFT_ADDRESS_EXHAUSTED') ||
        (await reclaimPreviousBoot(state, host, currentBootId())) === 0
      )
        throw e;
      ip = allocate(pool, state.addresses, owner, requested);
    }
    undo.push(`release ${ip}`, () => state.addresses.release(ip, owner));
    ips.push(ip);
  }
  return ips;
}

/**
 * The host routes between the bridge and the overlay: forwarding must be on (as the bridge plugin's isGateway
 * does), by the host rule (pkg/forwarding). The plugin does not know the underlay: its accept_ra is the daemon's.
 */
function enableForwarding(lease: SubnetFile, host: Netlink): void {
  const r = keepHostSysctls(host, hostSysctls({ families: lease.pools.map((p) => p.family) }));
  if (r.failed[0]) throw r.failed[0].error;
}
