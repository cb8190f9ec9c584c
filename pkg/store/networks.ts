/**
 * Named networks in etcd (docs/adr/0003). Creation and removal are transactions guarded by a generation key,
 * so two hosts creating networks at once cannot produce a duplicate name, a duplicate VNI or overlapping
 * subnets: the loser's transaction fails, it re-reads, and the checks run again on what the winner wrote.
 * Endpoint names are claimed by compare-and-create.
 */
import { randomBytes } from 'node:crypto';
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { WeftError } from '../errors/mod.ts';
import type { Clock } from '../lease/clock.ts';
import type { FeedHandlers } from '../lease/store.ts';
import type { KvClient } from './etcd/mod.ts';
import { PrefixFeed } from './prefix-feed.ts';
import { storeError, SubnetRegistry } from './registry.ts';
import { compareText } from '../text.ts';
import {
  acceptEndpoint,
  acceptNetworks,
  decodeEndpoint,
  inspectPeer,
  keys,
  networkConfigOf,
  nextVni,
  validateCreate,
  vniTaken,
  type CreateRequest,
  type DefaultNetwork,
  type Endpoint,
  type ExistingNetwork,
  type InspectPeer,
  type NetworkMeta,
} from '../networks/mod.ts';

export interface CreatedNetwork {
  readonly meta: NetworkMeta;
}

const GENERATION = (root: string) => `${root}/generation`;
/** How many times an endpoint write reads again when the record changed between its read and its transaction. */
const ENDPOINT_ATTEMPTS = 5;

export class NetworkStore {
  readonly client: KvClient;
  readonly root: string;
  /** The flannel default network's config key: its range and VNI are not for a named network to take. */
  readonly flannelConfigKey: string | undefined;

  constructor(client: KvClient, root: string, flannelConfigKey?: string) {
    this.client = client;
    this.root = root;
    this.flannelConfigKey = flannelConfigKey;
  }

  /** The flannel default network's range and VNI, when it is configured and valid. */
  async flannelDefault(): Promise<(DefaultNetwork & { readonly vni: number }) | undefined> {
    if (!this.flannelConfigKey) return undefined;
    const text = (
      await this.client
        .get(this.flannelConfigKey)
        .catch((e: unknown) => Promise.reject(storeError('reading the default network config', e)))
    )?.value;
    const cfg = text === undefined ? undefined : parseNetworkConfig(text);
    if (!cfg?.ok || !cfg.value.ipv4) return undefined;
    const vx = parseVxlanBackend(cfg.value);
    return { subnet: cfg.value.ipv4.network, subnet6: cfg.value.ipv6?.network, vni: vx.ok ? vx.value.vni : 1 };
  }

  /** List-then-watch of every network's keys (metas, configs, leases, endpoints); `clock` times its retries. */
  watch(h: FeedHandlers, clock?: Clock): PrefixFeed {
    return new PrefixFeed(this.client, keys.networks(this.root), h, clock);
  }

  /** A network's leases, in flannel's schema under its own prefix. */
  subnets(id: string): SubnetRegistry {
    return new SubnetRegistry(this.client, keys.network(this.root, id));
  }

  /** The hosts holding a lease on a network: subnet and public address (empty when the value is bad). */
  async peers(id: string): Promise<InspectPeer[]> {
    const { kvs } = await this.subnets(id).listSubnets();
    return kvs.map(({ key, value }) => {
      let ip = '';
      try {
        ip = String((JSON.parse(value) as { PublicIP?: unknown }).PublicIP ?? '');
      } catch {
        // a bad lease value: shown without its address
      }
      return inspectPeer(key.split('/').pop()!.replace('-', '/'), ip);
    });
  }

  /**
   * The networks whose records pass, judged as the daemons judge them (pkg/networks acceptNetworks: as
   * `network create` judges a request, in creation order, against the default network too), so `ls`,
   * `inspect` and every API call see the networks the daemons serve and no other. The daemons log refusals.
   */
  async list(dflt?: DefaultNetwork): Promise<NetworkMeta[]> {
    // The networks first: when etcd cannot be read, the one line an operator sees says what `ls` was doing.
    const { kvs } = await this.client
      .getPrefix(keys.networks(this.root))
      .catch((e: unknown) => Promise.reject(storeError('listing networks', e)));
    const d = dflt ?? (await this.flannelDefault());
    return acceptNetworks(this.root, kvs, d).accepted.sort((a, b) => compareText(a.Name, b.Name));
  }

  /** A network by name, by full ID, or by an unambiguous ID prefix (as Docker accepts). */
  async find(ref: string): Promise<NetworkMeta | undefined> {
    const all = await this.list();
    const byName = all.find((m) => m.Name === ref);
    if (byName) return byName;
    const byId = all.filter((m) => m.Id.startsWith(ref));
    if (byId.length > 1) throw new WeftError('WEFT_INVALID_ARGUMENT', `network ID prefix ${ref} is ambiguous; give more of it`);
    return byId[0];
  }

  async get(ref: string): Promise<NetworkMeta> {
    const m = await this.find(ref);
    if (!m) throw new WeftError('WEFT_NOT_FOUND', `network ${ref} not found`);
    return m;
  }

  async create(req: CreateRequest): Promise<NetworkMeta> {
    for (let attempt = 0; attempt < 10; attempt++) {
      // The generation first, then the list: a creation that commits after this read bumps the generation and
      // fails the transaction below, so the checks never run on a list older than the generation compared.
      const genKv = await this.client
        .get(GENERATION(this.root))
        .catch((e: unknown) => Promise.reject(storeError('reading the network generation', e)));
      const dflt = await this.flannelDefault();
      const existing = await this.list(dflt);
      const others: ExistingNetwork[] = [
        ...existing.map((m) => ({ name: m.Name, subnet: m.Subnet, subnet6: m.SubnetV6 })),
        ...(dflt ? [{ name: 'default', subnet: dflt.subnet, subnet6: dflt.subnet6 }] : []),
      ];
      const v = validateCreate(req, others);
      if (!v.ok) throw new WeftError(v.nameTaken ? 'WEFT_ALREADY_EXISTS' : 'WEFT_INVALID_CONFIG', v.reason);
      const taken = [...existing.map((m) => ({ name: m.Name, vni: m.VNI })), ...(dflt ? [{ name: 'default', vni: dflt.vni }] : [])];
      const vni = v.value.vni ?? nextVni(new Set(taken.map((t) => t.vni)));
      const used = vniTaken(vni, taken);
      if (used) throw new WeftError('WEFT_ALREADY_EXISTS', used);
      const meta: NetworkMeta = {
        Name: v.value.name,
        Id: randomBytes(32).toString('hex'),
        Created: new Date().toISOString(),
        Driver: 'overlay',
        Scope: 'global',
        Subnet: v.value.subnet,
        Gateway: v.value.gateway,
        VNI: vni,
        MTU: v.value.mtu,
        HostSubnetLen: v.value.hostSubnetLen,
        ...(v.value.subnet6 && { SubnetV6: v.value.subnet6, HostSubnetLenV6: v.value.hostSubnetLen6 }),
      };
      const nextGen = String(Number(genKv?.value ?? '0') + 1);
      try {
        const created = await this.client.txn(
          [
            { key: GENERATION(this.root), target: 'mod', op: '==', value: genKv ? genKv.modRevision : 0 },
            { key: keys.name(this.root, meta.Name), target: 'version', op: '==', value: 0 },
            { key: keys.vni(this.root, vni), target: 'version', op: '==', value: 0 },
          ],
          [
            { put: GENERATION(this.root), value: nextGen },
            { put: keys.name(this.root, meta.Name), value: meta.Id },
            { put: keys.vni(this.root, vni), value: meta.Id },
            { put: keys.meta(this.root, meta.Id), value: JSON.stringify(meta) },
            { put: keys.config(this.root, meta.Id), value: networkConfigOf(meta) },
          ],
        );
        if (created) return meta;
      } catch (e) {
        throw storeError(`creating network ${meta.Name}`, e);
      }
    }
    throw new WeftError('WEFT_TRY_AGAIN', 'networks are being created concurrently; try again');
  }

  /** The network's endpoint records that pass (acceptEndpoint, as the daemons judge them). */
  async endpoints(meta: NetworkMeta): Promise<Endpoint[]> {
    try {
      const { kvs } = await this.client.getPrefix(keys.endpoints(this.root, meta.Id));
      return kvs
        .map((kv) => acceptEndpoint(this.root, kv, meta))
        .flatMap((r) => (r.ok ? [r.value] : []))
        .sort((a, b) => compareText(a.Name, b.Name));
    } catch (e) {
      throw storeError('listing endpoints', e);
    }
  }

  /**
   * Removes a network with no endpoints left; Docker's refusal otherwise. The check and the removal are one:
   * the transaction holds only if nothing under the network's endpoints was written since they were read
   * (`ModRevision < read revision + 1` over the prefix), so an endpoint registered in between makes it fail,
   * and the endpoints are read again. (Not `Version == 0` over the prefix: an undecodable value left under
   * it would then block the removal for good, where it is removed with the network.)
   */
  async remove(ref: string): Promise<NetworkMeta> {
    const meta = await this.get(ref);
    const prefix = keys.endpoints(this.root, meta.Id);
    for (let attempt = 0; attempt < ENDPOINT_ATTEMPTS; attempt++) {
      const listing = await this.client.getPrefix(prefix).catch((e: unknown) => Promise.reject(storeError('listing endpoints', e)));
      const eps = listing.kvs.map((kv) => acceptEndpoint(this.root, kv, meta)).flatMap((r) => (r.ok ? [r.value] : []));
      if (eps.length > 0)
        throw new WeftError('WEFT_ALREADY_EXISTS', `network ${meta.Name} has active endpoints`, {
          details: eps.map((e) => `${e.Name} on ${e.Host}${e.HostIP ? ` (${e.HostIP})` : ''}`).join(', '),
        });
      let removed: boolean;
      try {
        removed = await this.client.txn(
          [
            { key: keys.name(this.root, meta.Name), target: 'value', op: '==', value: meta.Id },
            { key: prefix, prefix: true, target: 'mod', op: '<', value: Number(listing.revision) + 1 },
          ],
          [
            { delete: keys.name(this.root, meta.Name) },
            { delete: keys.vni(this.root, meta.VNI) },
            { deletePrefix: `${keys.network(this.root, meta.Id)}/` },
          ],
        );
      } catch (e) {
        throw storeError(`removing network ${meta.Name}`, e);
      }
      if (removed) return meta;
      // Removed meanwhile (its name gone or given to another network): as if it had not been found.
      if ((await this.find(meta.Id)) === undefined) throw new WeftError('WEFT_NOT_FOUND', `network ${ref} not found`);
    }
    throw new WeftError('WEFT_TRY_AGAIN', `the endpoints of network ${meta.Name} kept changing while it was removed; try again`);
  }

  /**
   * Claims `ep.Name` on the network. An existing record of the same container and interface is this
   * attachment's (a retried ADD): it is replaced, by a transaction on the revision read, so a record that
   * changed hands in between (removed, claimed by another container) is never overwritten. Anyone else's is
   * Docker's conflict.
   */
  async registerEndpoint(meta: NetworkMeta, ep: Endpoint): Promise<void> {
    const key = keys.endpoint(this.root, meta.Id, ep.Name);
    const metaKey = keys.meta(this.root, meta.Id);
    const networkExists = { key: metaKey, target: 'version', op: '>', value: 0 } as const;
    const put = [{ put: key, value: JSON.stringify(ep) }];
    try {
      for (let attempt = 0; attempt < ENDPOINT_ATTEMPTS; attempt++) {
        if (await this.client.txn([{ key, target: 'version', op: '==', value: 0 }, networkExists], put)) return;
        const cur = await this.client.get(key);
        if (cur === undefined) {
          if ((await this.client.get(metaKey)) === undefined) throw new WeftError('WEFT_NOT_FOUND', `network ${meta.Name} not found`);
          continue; // removed since the transaction: claim it anew
        }
        const d = decodeEndpoint(cur.value);
        if (!(d.ok && d.value.ContainerID === ep.ContainerID && d.value.Interface === ep.Interface))
          throw new WeftError('WEFT_ALREADY_EXISTS', `service endpoint with name ${ep.Name} already exists`);
        if (await this.client.txn([{ key, target: 'mod', op: '==', value: cur.modRevision }, networkExists], put)) return;
      }
    } catch (e) {
      throw storeError(`registering ${ep.Name} on ${meta.Name}`, e);
    }
    throw new WeftError('WEFT_TRY_AGAIN', `the record of ${ep.Name} on ${meta.Name} kept changing while it was registered; try again`);
  }

  /**
   * Removes an endpoint record; with `containerID`, only if it is that container's; with `hostIP`, only if it
   * is that host's (the daemon's repair: a host removes only what it owns). The delete is a transaction on
   * the revision read: a record replaced between the read and the delete is judged again, never deleted
   * unseen.
   */
  async unregisterEndpoint(meta: NetworkMeta, name: string, containerID?: string, only: { hostIP?: string } = {}): Promise<boolean> {
    const key = keys.endpoint(this.root, meta.Id, name);
    try {
      for (let attempt = 0; attempt < ENDPOINT_ATTEMPTS; attempt++) {
        const cur = await this.client.get(key);
        if (cur === undefined) return false;
        const d = decodeEndpoint(cur.value);
        if (containerID !== undefined && d.ok && d.value.ContainerID !== containerID) return false;
        if (only.hostIP !== undefined && !(d.ok && d.value.HostIP === only.hostIP)) return false;
        if (await this.client.txn([{ key, target: 'mod', op: '==', value: cur.modRevision }], [{ delete: key }])) return true;
      }
    } catch (e) {
      throw storeError(`removing endpoint ${name} from ${meta.Name}`, e);
    }
    throw new WeftError('WEFT_TRY_AGAIN', `the record of ${name} on ${meta.Name} kept changing while it was removed; try again`);
  }
}
