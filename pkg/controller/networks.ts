/**
 * The daemon's named networks (docs/adr/0003). It follows `<root>/networks/` in etcd: a network that appears
 * gets an agent on this host (its lease, VXLAN device, bridge and peers); once the agent serves, the
 * network's DNS server starts on the bridge address and its conflist is written for runtimes; a network that
 * disappears is torn down here. It also keeps the endpoint directory (every host's endpoints, for DNS and
 * inspect), the isolation rules, and this host's endpoint records equal to the CNI plugin's local records.
 */
import { createHash } from 'node:crypto';
import { currentBootId, networkState } from '../attach/mod.ts';
import { DnsServer, hostResolvers, type DirectoryEntry } from '../dns/mod.ts';
import { messageOf } from '../errors/mod.ts';
import { removeIfExists, writeFileAtomic } from '../files/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import { classifyKey, conflistFileName, decodeEndpoint, decodeMeta, keys, leaseFileName, type Endpoint, type NetworkMeta } from '../networks/mod.ts';
import { NetworkStore, PrefixFeed, SubnetRegistry, type Change, type EtcdClient } from '../store/mod.ts';
import type { RawKv } from '../lease/lease.ts';
import { EtcdLeaseSource } from './lease-source.ts';
import { NetworkAgent, type AgentSpec, type AgentStatus, type Served } from './agent.ts';
import type { ExternalInterface } from './iface.ts';
import { applyIsolation, removeIsolation } from './isolation.ts';

export interface ManagerOptions {
  readonly root: string;
  readonly runDir: string;
  readonly cniConfDir: string | undefined;
  readonly cniDataDir: string;
  readonly nodeName: string;
  readonly dns: boolean;
  readonly socket: string;
  /** Agent settings shared by every network. */
  readonly agent: Pick<AgentSpec, 'stateDir' | 'ipMasqFullyRandom' | 'forwardRules' | 'renewMarginMs' | 'leaseTtlSeconds' | 'resyncMs'>;
  /** The flannel default network's config key (its range and VNI are not for named networks). */
  readonly flannelConfigKey: string;
  /** The flannel default network's range, when it has one, for isolation. */
  readonly defaultRange: () => string | undefined;
}

interface Running {
  readonly meta: NetworkMeta;
  readonly agent: NetworkAgent;
  dns?: DnsServer;
}

export class NetworkManager {
  readonly store: NetworkStore;
  readonly #client: EtcdClient;
  readonly #nl: Netlink;
  readonly #iface: ExternalInterface;
  readonly #log: Logger;
  readonly #o: ManagerOptions;
  readonly #metas = new Map<string, NetworkMeta>();
  readonly #endpoints = new Map<string, Map<string, Endpoint>>();
  readonly #running = new Map<string, Running>();
  #feed: PrefixFeed | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isolation = '';

  constructor(deps: { client: EtcdClient; nl: Netlink; iface: ExternalInterface; log: Logger }, opts: ManagerOptions) {
    this.#client = deps.client;
    this.#nl = deps.nl;
    this.#iface = deps.iface;
    this.#log = deps.log;
    this.#o = opts;
    this.store = new NetworkStore(deps.client, opts.root, opts.flannelConfigKey);
  }

  async start(): Promise<void> {
    this.#feed = new PrefixFeed(this.#client, keys.networks(this.#o.root), {
      snapshot: (kvs) => this.#onSnapshot(kvs),
      changes: (c) => this.#onChanges(c),
      log: (level, msg) => this.#log[level](msg),
    });
    await this.#feed.start();
    this.#timer = setInterval(() => void this.#periodic(), this.#o.agent.resyncMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#feed?.stop();
    for (const r of this.#running.values()) {
      r.dns?.close();
      await r.agent.stop();
    }
  }

  statuses(): AgentStatus[] {
    return [...this.#running.values()].map((r) => r.agent.status());
  }

  metas(): NetworkMeta[] {
    return [...this.#metas.values()];
  }

  endpointsOf(id: string): Endpoint[] {
    return [...(this.#endpoints.get(id)?.values() ?? [])];
  }

  /** The hosts holding a lease on a network (its peers), from etcd. */
  async peers(id: string): Promise<Array<{ Name: string; IP: string }>> {
    const { kvs } = await this.#client.getPrefix(`${keys.network(this.#o.root, id)}/subnets/`);
    return kvs.map(({ key, value }) => {
      let ip = '';
      try {
        ip = String((JSON.parse(value) as { PublicIP?: unknown }).PublicIP ?? '');
      } catch {
        // a bad lease value: shown without its address
      }
      return { Name: key.split('/').pop()!.replace('-', '/'), IP: ip };
    });
  }

  served(id: string): Served | undefined {
    return this.#running.get(id)?.agent.served();
  }

  /** Every endpoint of every network, for the DNS servers. */
  directory(): DirectoryEntry[] {
    const out: DirectoryEntry[] = [];
    for (const [id, eps] of this.#endpoints) {
      const net = this.#metas.get(id)?.Name;
      if (!net) continue;
      for (const e of eps.values()) out.push({ network: net, name: e.Name, aliases: e.Aliases, containerID: e.ContainerID, address: e.IPv4Address.split('/')[0]! });
    }
    return out;
  }

  /** The conflist a runtime (or `weft network connect`) uses for a network on this host. */
  conflist(meta: NetworkMeta): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: meta.Name,
      plugins: [
        {
          type: 'weft', network: meta.Name, subnetFile: leaseFileName(this.#o.runDir, meta.Name), dataDir: this.#o.cniDataDir, daemonSocket: this.#o.socket,
          capabilities: { ips: true, mac: true, aliases: true },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
  }

  #apply(kv: RawKv | { key: string; deleted: true }): void {
    const k = classifyKey(this.#o.root, kv.key);
    const deleted = 'deleted' in kv;
    if (k.kind === 'meta') {
      if (deleted) this.#metas.delete(k.id);
      else {
        const m = decodeMeta((kv as RawKv).value);
        if (m.ok) this.#metas.set(k.id, m.value);
        else this.#log.warn(`ignoring bad network meta: ${m.reason}`, { key: kv.key });
      }
    } else if (k.kind === 'endpoint') {
      const eps = this.#endpoints.get(k.id) ?? new Map<string, Endpoint>();
      this.#endpoints.set(k.id, eps);
      if (deleted) eps.delete(k.name);
      else {
        const e = decodeEndpoint((kv as RawKv).value);
        if (e.ok) eps.set(k.name, e.value);
        else this.#log.warn(`ignoring bad endpoint: ${e.reason}`, { key: kv.key });
      }
    }
  }

  #onSnapshot(kvs: readonly RawKv[]): void {
    this.#metas.clear();
    this.#endpoints.clear();
    for (const kv of kvs) this.#apply(kv);
    this.#sync();
  }

  #onChanges(changes: readonly Change[]): void {
    for (const c of changes) this.#apply(c.type === 'put' ? c.kv : { key: c.key, deleted: true });
    this.#sync();
  }

  /** Starts agents for new networks, tears down removed ones, and refreshes the isolation rules. */
  #sync(): void {
    for (const [id, meta] of this.#metas) if (!this.#running.has(id)) this.#startNetwork(meta);
    for (const [id, r] of this.#running) if (!this.#metas.has(id)) void this.#removeNetwork(id, r);
    const ranges = [...this.#metas.values()].map((m) => ({ name: m.Name, subnet: m.Subnet }));
    const dflt = this.#o.defaultRange();
    if (dflt) ranges.push({ name: 'default', subnet: dflt });
    const key = JSON.stringify(ranges);
    if (key !== this.#isolation) {
      try {
        if (ranges.length > 1) applyIsolation(ranges);
        else removeIsolation();
        this.#isolation = key;
      } catch (e) {
        this.#log.error(`cannot apply the isolation rules: ${messageOf(e)}`);
      }
    }
  }

  #startNetwork(meta: NetworkMeta): void {
    const log = this.#log.child({ network: meta.Name });
    const agent = new NetworkAgent(
      {
        ...this.#o.agent, key: meta.Name, network: meta.Name, preCreateBridge: true, ipMasq: true,
        subnetFile: leaseFileName(this.#o.runDir, meta.Name),
      },
      { source: (l) => new EtcdLeaseSource(new SubnetRegistry(this.#client, keys.network(this.#o.root, meta.Id)), l), nl: this.#nl, iface: this.#iface, log: this.#log },
    );
    const running: Running = { meta, agent };
    this.#running.set(meta.Id, running);
    log.info('network appeared; joining it', { id: meta.Id.slice(0, 12), subnet: meta.Subnet, vni: meta.VNI });
    agent.start().then(async () => {
      const served = agent.served();
      if (!served || this.#running.get(meta.Id) !== running) return;
      if (this.#o.cniConfDir) writeFileAtomic(conflistFileName(this.#o.cniConfDir, meta.Name), `${JSON.stringify(this.conflist(meta), null, 2)}\n`, 0o644);
      if (this.#o.dns) {
        const dns = new DnsServer({
          address: served.gateway, network: meta.Name, log,
          directory: () => this.directory(),
          upstreams: () => hostResolvers(new Set([...this.#running.values()].map((r) => r.agent.served()?.gateway).filter((g): g is string => !!g))),
        });
        try {
          await dns.start();
          running.dns = dns;
          log.info('DNS for container names listening', { address: `${served.gateway}:53` });
        } catch (e) {
          log.error(`cannot serve DNS on ${served.gateway}:53: ${messageOf(e)}`);
        }
      }
    }, (e: unknown) => {
      if ((e as Error).message !== 'stopped') log.error(`cannot join network: ${messageOf(e)}`);
    });
  }

  async #removeNetwork(id: string, r: Running): Promise<void> {
    this.#running.delete(id);
    r.dns?.close();
    if (this.#o.cniConfDir) removeIfExists(conflistFileName(this.#o.cniConfDir, r.meta.Name));
    await r.agent.stop({ teardown: true });
  }

  async #periodic(): Promise<void> {
    for (const r of this.#running.values()) {
      if (r.agent.served()) await this.#reconcileEndpoints(r.meta).catch((e) => this.#log.warn(`endpoint records of ${r.meta.Name}: ${messageOf(e)}`));
    }
  }

  /**
   * This host's endpoint records in etcd follow the plugin's local attachment records: a missing one (etcd was
   * unreachable at ADD, or the record was lost) is registered again, one without a local attachment (its DEL
   * could not reach the daemon) is removed.
   */
  async #reconcileEndpoints(meta: NetworkMeta): Promise<void> {
    const boot = currentBootId();
    const local = networkState({ dataDir: this.#o.cniDataDir, network: meta.Name }).records.list().flatMap((e) => (e.record?.bootId === boot ? [e.record] : []));
    const mine = this.endpointsOf(meta.Id).filter((e) => e.Host === this.#o.nodeName);
    for (const r of local) {
      const ep = r.endpoint;
      if (!ep || r.state !== 'added' || mine.some((e) => e.Name === ep.name && e.ContainerID === r.containerID)) continue;
      await this.store.registerEndpoint(meta, this.endpointRecord(meta, { name: ep.name, aliases: ep.aliases, containerID: r.containerID, ifname: r.ifname, address: r.ips[0] ?? '', mac: ep.mac }))
        .then(() => this.#log.info('re-registered an endpoint missing from etcd', { network: meta.Name, name: ep.name }), (e) => this.#log.warn(`cannot re-register ${ep.name}: ${messageOf(e)}`));
    }
    // Any local record protects its endpoint, also one still being added (registered, record not yet saved).
    for (const e of mine) {
      if (!local.some((r) => r.containerID === e.ContainerID && r.ifname === e.Interface)) {
        await this.store.unregisterEndpoint(meta, e.Name, e.ContainerID);
        this.#log.info('removed an endpoint record with no attachment on this host', { network: meta.Name, name: e.Name });
      }
    }
  }

  /** An endpoint record for an attachment on this host. */
  endpointRecord(meta: NetworkMeta, a: { name: string; aliases: readonly string[]; containerID: string; ifname: string; address: string; mac: string }): Endpoint {
    return {
      Name: a.name, EndpointID: createHash('sha256').update(`${meta.Id}/${a.containerID}/${a.ifname}`).digest('hex'), NetworkID: meta.Id, Network: meta.Name,
      Host: this.#o.nodeName, HostIP: this.#iface.publicIP, ContainerID: a.containerID, Interface: a.ifname, IPv4Address: a.address, MacAddress: a.mac,
      Aliases: a.aliases, Created: new Date().toISOString(),
    };
  }
}
