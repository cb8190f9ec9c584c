/**
 * The daemon's named networks (docs/adr/0003). It follows `<root>/networks/` in etcd: a network that appears
 * gets an agent on this host (its lease, VXLAN device, bridge and peers); once the agent serves, the
 * network's DNS server starts on the bridge address and its conflist is written for runtimes; a network that
 * disappears is torn down here (its lease given up, so nothing of it stays in etcd). It also keeps the endpoint
 * directory (every host's endpoints, for DNS and inspect), the isolation rules, this host's endpoint records
 * equal to the CNI plugin's local records, and every network's conflist and DNS listener in place.
 */
import { createHash } from 'node:crypto';
import { containsIP, parseAddr, parsePrefix } from '../netaddr/cidr.ts';
import { currentBootId, networkState, type AttachmentRecord } from '../contract/mod.ts';
import { DnsServer, hostResolvers, isEndpointOf, type DirectoryEntry } from '../dns/mod.ts';
import { messageOf, WeftError } from '../errors/mod.ts';
import { readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';
import { NetworkAgent, type AgentSpec, type AgentStatus, type ExternalInterface, type Served } from '../agent/mod.ts';
import { ISOLATION_TABLE, isolationTable, type FirewallKeeper, type VxlanSource } from '../firewall/mod.ts';
import type { NetworkStatus } from '../contract/status.ts';
import type { KernelEvent, Netlink } from '../kernel/mod.ts';
import { EtcdLeaseSource, type Change, type RawKv } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import {
  acceptEndpoint,
  acceptNetworks,
  classifyKey,
  configProblem,
  conflistFileName,
  inspectObject,
  leaseFileName,
  networkConfigOf,
  printable,
  validateEndpoint,
  type CreateRequest,
  type DefaultNetwork,
  type Endpoint,
  type LsRow,
  type NetworkMeta,
} from '../networks/mod.ts';
import type { Result } from '../netaddr/result.ts';
import type { NetworkStore, PrefixFeed } from '../store/mod.ts';
import type { DaemonMetrics } from './metrics.ts';
import { reclaimEarlierBoots } from './previous-boot.ts';
import { bridgeName, vxlanDeviceName } from '../networks/names.ts';
import { byFamily, familyOf } from '../netaddr/family.ts';

export interface ManagerOptions {
  readonly root: string;
  readonly runDir: string;
  readonly cniConfDir: string | undefined;
  readonly cniDataDir: string;
  /** This host's name in endpoint records: a label for people; which records are this host's goes by public address. */
  readonly nodeName: string;
  readonly dns: boolean;
  readonly socket: string;
  /** Agent settings shared by every network. */
  readonly agent: Pick<AgentSpec, 'stateDir' | 'ipMasqFullyRandom' | 'forwardRules' | 'renewMarginMs' | 'leaseTtlSeconds' | 'resyncMs'>;
  /** The flannel default network's config key (its range and VNI are not for named networks). */
  readonly flannelConfigKey: string;
  /** The flannel default network's range, when it has one, for isolation. */
  /** The flannel default network's ranges (IPv4, and IPv6 when it is dual-stack), once its config is read. */
  readonly defaultRanges: () => readonly string[];
  /** The flannel default network's bridge and VTEPs on this host, once it serves, for isolation by interface. */
  readonly defaultDevices: () => readonly string[];
}

interface Running {
  readonly meta: NetworkMeta;
  readonly agent: NetworkAgent;
  dns?: DnsServer;
  dns6?: DnsServer;
}

export interface ManagerDeps {
  readonly store: NetworkStore;
  readonly nl: Netlink;
  readonly iface: ExternalInterface;
  readonly log: Logger;
  readonly firewall: FirewallKeeper;
  readonly metrics?: DaemonMetrics;
  /** Addresses no peer's lease may claim (the etcd endpoints'). */
  readonly protectedAddrs?: readonly string[];
}

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

export class NetworkManager {
  readonly #store: NetworkStore;
  readonly #nl: Netlink;
  readonly #iface: ExternalInterface;
  readonly #log: Logger;
  readonly #firewall: FirewallKeeper;
  readonly #metrics: DaemonMetrics | undefined;
  readonly #protectedAddrs: readonly string[];
  readonly #o: ManagerOptions;
  /** The records as etcd has them (this host's view, kept by the watch): metas by ID, endpoints by ID and name. */
  readonly #metaRecords = new Map<string, RawKv>();
  readonly #endpointRecords = new Map<string, Map<string, RawKv>>();
  /** The records that passed (#judge): only these reach an agent, the firewall, DNS or a file path. */
  readonly #metas = new Map<string, NetworkMeta>();
  readonly #endpoints = new Map<string, Map<string, Endpoint>>();
  /** Each endpoint record's judgment, kept while neither it nor its network's meta changes. */
  #judgedEndpoints = new Map<string, { readonly at: string; readonly result: Result<Endpoint> }>();
  /** Refused records and what was logged of each, so a refusal is said once (again only if it changes). */
  readonly #refused = new Map<string, string>();
  /** The flannel default network's ranges and VNI, which named networks are judged against. */
  #dflt: DefaultNetwork | undefined;
  readonly #running = new Map<string, Running>();
  #feed: PrefixFeed | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isolation = '';
  /** Told after every change of the set of networks (the Docker mirror). */
  onNetworksChanged: (() => void) | undefined;
  /** Told when a network's agent changes the hosts it sends VXLAN to (the daemon's VXLAN filter; awaited). */
  onVxlanPeers: (() => Promise<void>) | undefined;

  constructor(deps: ManagerDeps, opts: ManagerOptions) {
    this.#store = deps.store;
    this.#nl = deps.nl;
    this.#iface = deps.iface;
    this.#log = deps.log;
    this.#firewall = deps.firewall;
    this.#metrics = deps.metrics;
    this.#protectedAddrs = deps.protectedAddrs ?? [];
    this.#o = opts;
  }

  async start(): Promise<void> {
    this.#dflt = await this.#store.flannelDefault().catch(() => undefined);
    this.#feed = this.#store.watch({
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
      r.dns6?.close();
      await r.agent.stop();
    }
  }

  /** Each network this host runs, for `weft status`; verbose adds the desired state and the conflist. */
  reports(verbose: boolean): NetworkStatus[] {
    return [...this.#running.values()].map((r) => {
      const rep = r.agent.report(verbose);
      if (!rep.desired || !this.#o.cniConfDir) return rep;
      return {
        ...rep,
        desired: { ...rep.desired, conflist: { path: conflistFileName(this.#o.cniConfDir, r.meta.Name), name: r.meta.Name } },
      };
    });
  }

  /** The named networks as etcd has them (this host's view, kept by the watch). */
  metas(): NetworkMeta[] {
    return [...this.#metas.values()];
  }

  statuses(): AgentStatus[] {
    return [...this.#running.values()].map((r) => r.agent.status());
  }

  /** The named networks this host runs, by name (their bridges are weft's alone: pkg/daemon/host-firewall.ts). */
  networkNames(): string[] {
    return [...this.#running.values()].map((r) => r.meta.Name);
  }

  /** Every named network's VTEP port, VNI and the hosts it sends VXLAN to. */
  vxlanSources(): VxlanSource[] {
    return [...this.#running.values()].flatMap((r) => r.agent.vxlanSource() ?? []);
  }

  #endpointsOf(id: string): Endpoint[] {
    return [...(this.#endpoints.get(id)?.values() ?? [])];
  }

  // ---- what the local API asks (pkg/daemon/api-server.ts)

  /** A network by name, ID or ID prefix: this host's view first, etcd's otherwise. */
  async #meta(ref: string): Promise<NetworkMeta> {
    const m = [...this.#metas.values()].find((x) => x.Name === ref || x.Id === ref) ?? (await this.#store.find(ref));
    if (!m) throw new WeftError('WEFT_NOT_FOUND', `network ${ref} not found`);
    return m;
  }

  /** `ls` rows of the named networks. */
  async list(): Promise<LsRow[]> {
    return (await this.#store.list()).map((m) => ({
      id: m.Id,
      name: m.Name,
      driver: m.Driver,
      scope: m.Scope,
      subnet: m.Subnet,
      ...(m.SubnetV6 && { subnet6: m.SubnetV6 }),
      created: m.Created,
    }));
  }

  create(req: CreateRequest): Promise<NetworkMeta> {
    return this.#store.create(req);
  }

  remove(ref: string): Promise<NetworkMeta> {
    return this.#store.remove(ref);
  }

  /** `inspect`: the network, every host's endpoints and leases, this host's MTU. */
  async inspect(ref: string): Promise<ReturnType<typeof inspectObject>> {
    const net = await this.#meta(ref);
    const [eps, peers] = await Promise.all([this.#store.endpoints(net), this.#store.peers(net.Id)]);
    return inspectObject(net, eps, { mtu: this.served(net.Id)?.mtu, peers });
  }

  /** The conflist runtimes use for the network on this host, once it serves here. */
  async conflistFor(ref: string): Promise<Record<string, unknown>> {
    const net = await this.#meta(ref);
    if (!this.served(net.Id)) throw new WeftError('WEFT_TRY_AGAIN', `network ${net.Name} is not ready on this host yet`);
    return this.conflist(net);
  }

  /** Claims a name on the network for an attachment on this host (Docker's refusal when another holds it). */
  async register(ref: string, input: EndpointInput): Promise<Endpoint> {
    const net = await this.#meta(ref);
    if (!input.name || !input.containerID || (!input.address && !input.address6))
      throw new WeftError('WEFT_INVALID_ARGUMENT', 'an endpoint needs name, containerID and an address');
    const ep = this.endpointRecord(net, input);
    // What the daemon writes passes the rules every host judges the record by when it reads it back.
    const valid = validateEndpoint(ep, net);
    if (!valid.ok)
      throw new WeftError('WEFT_INVALID_ARGUMENT', `cannot register ${printable(input.name)} on ${net.Name}: ${printable(valid.reason)}`);
    await this.#store.registerEndpoint(net, ep).catch((e: unknown) => {
      this.#metrics?.cni(net.Name, 'ADD', 'error');
      throw e;
    });
    this.#metrics?.cni(net.Name, 'ADD', 'ok');
    return ep;
  }

  /** Removes a name's record: only `containerID`'s when given (a DEL), whoever's otherwise (`disconnect --force`). */
  async unregister(ref: string, name: string, containerID: string | undefined): Promise<boolean> {
    const net = await this.#meta(ref);
    const removed = await this.#store.unregisterEndpoint(net, name, containerID);
    if (containerID !== undefined) this.#metrics?.cni(net.Name, 'DEL', 'ok');
    if (!removed && containerID === undefined) throw new WeftError('WEFT_NOT_FOUND', `network ${net.Name} has no endpoint ${name}`);
    return removed;
  }

  // ---- this host's side

  /** A kernel change, for every network's agent to judge. */
  onKernelEvent(e: KernelEvent): void {
    for (const r of this.#running.values()) r.agent.onKernelEvent(e);
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
      for (const e of eps.values())
        out.push({
          network: net,
          name: e.Name,
          aliases: e.Aliases,
          containerID: e.ContainerID,
          address: e.IPv4Address.split('/')[0]!,
          ...(e.IPv6Address && { address6: e.IPv6Address.split('/')[0]! }),
        });
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
          type: 'weft',
          network: meta.Name,
          subnetFile: leaseFileName(this.#o.runDir, meta.Name),
          dataDir: this.#o.cniDataDir,
          daemonSocket: this.#o.socket,
          capabilities: { ips: true, mac: true, aliases: true },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
  }

  /** Keeps a record as etcd has it; what passes is decided by #judge, over every record at once. */
  #apply(kv: RawKv | { key: string; deleted: true }): void {
    const k = classifyKey(this.#o.root, kv.key);
    const deleted = 'deleted' in kv;
    if (k.kind === 'meta') {
      if (deleted) this.#metaRecords.delete(k.id);
      else this.#metaRecords.set(k.id, kv);
    } else if (k.kind === 'endpoint') {
      const eps = this.#endpointRecords.get(k.id) ?? new Map<string, RawKv>();
      this.#endpointRecords.set(k.id, eps);
      if (deleted) eps.delete(k.name);
      else eps.set(k.name, kv);
    }
  }

  /**
   * Judges every record as the API judges what it writes (pkg/networks record.ts, issue 25: etcd is untrusted
   * input): the networks in the order they were created, each against those before it and the default
   * network; then each accepted network's endpoints. A refused record is logged once with its key and why.
   */
  #judge(): void {
    const { accepted, refused } = acceptNetworks(this.#o.root, [...this.#metaRecords.values()], this.#dflt);
    const said = new Map(refused.map((r) => [r.key, `refusing the network record ${r.key}: ${r.reason}`]));
    this.#metas.clear();
    for (const m of accepted) this.#metas.set(m.Id, m);
    this.#endpoints.clear();
    const judged = new Map<string, { readonly at: string; readonly result: Result<Endpoint> }>();
    for (const [id, records] of this.#endpointRecords) {
      const meta = this.#metas.get(id);
      // Endpoints of a network not (or no longer) accepted are not served; the network's refusal says why.
      if (!meta) continue;
      const eps = new Map<string, Endpoint>();
      for (const [name, kv] of records) {
        const at = `${kv.modRevision}/${this.#metaRecords.get(id)?.modRevision}`;
        const before = this.#judgedEndpoints.get(kv.key);
        const j = before?.at === at ? before : { at, result: acceptEndpoint(this.#o.root, kv, meta) };
        judged.set(kv.key, j);
        if (j.result.ok) eps.set(name, j.result.value);
        else said.set(kv.key, `refusing the endpoint record ${printable(kv.key)}: ${j.result.reason}`);
      }
      this.#endpoints.set(id, eps);
    }
    this.#judgedEndpoints = judged;
    for (const [key, msg] of said) if (this.#refused.get(key) !== msg) this.#log.warn(msg);
    for (const key of [...this.#refused.keys()]) if (!said.has(key)) this.#refused.delete(key);
    for (const [key, msg] of said) this.#refused.set(key, msg);
  }

  #onSnapshot(kvs: readonly RawKv[]): void {
    this.#metaRecords.clear();
    this.#endpointRecords.clear();
    for (const kv of kvs) this.#apply(kv);
    this.#sync();
  }

  #onChanges(changes: readonly Change[]): void {
    for (const c of changes) this.#apply(c.type === 'put' ? c.kv : { key: c.key, deleted: true });
    this.#sync();
  }

  /** Judges the records, starts agents for new networks, tears down removed ones, and refreshes the isolation rules. */
  #sync(): void {
    this.#judge();
    let changed = false;
    for (const [id, meta] of this.#metas)
      if (!this.#running.has(id)) {
        this.#startNetwork(meta);
        changed = true;
      }
    for (const [id, r] of this.#running)
      if (!this.#metas.has(id)) {
        void this.#removeNetwork(id, r);
        changed = true;
      }
    if (changed) this.onNetworksChanged?.();
    this.#keepIsolation();
  }

  /**
   * The isolation rules for the networks as they are now: by address between their ranges, by interface
   * between their bridges and VTEPs (issue 25). Also every period: the default network's devices are known
   * only once its agent serves.
   */
  #keepIsolation(): void {
    const ranges = [...this.#metas.values()].flatMap((m) => [
      { name: m.Name, subnet: m.Subnet },
      ...(m.SubnetV6 ? [{ name: m.Name, subnet: m.SubnetV6 }] : []),
    ]);
    for (const subnet of this.#o.defaultRanges()) ranges.push({ name: 'default', subnet });
    const devices = [
      ...[...this.#metas.values()].map((m) => ({ name: m.Name, devices: [bridgeName(m.Name), vxlanDeviceName(m.Name, m.VNI)] })),
      { name: 'default', devices: this.#o.defaultDevices() },
    ];
    const key = JSON.stringify([ranges, devices]);
    if (key !== this.#isolation) {
      const t = isolationTable(ranges, devices);
      if (t) this.#firewall.want(t);
      else this.#firewall.unwant({ family: 'inet', name: ISOLATION_TABLE });
      void this.#firewall.sync();
      this.#isolation = key;
    }
  }

  #startNetwork(meta: NetworkMeta): void {
    const log = this.#log.child({ network: meta.Name });
    const agent = new NetworkAgent(
      {
        ...this.#o.agent,
        key: meta.Name,
        network: meta.Name,
        ownsBridge: true,
        ipMasq: true,
        subnetFile: leaseFileName(this.#o.runDir, meta.Name),
      },
      {
        source: (l) => new NamedLeaseSource(this.#store.subnets(meta.Id), l, meta),
        nl: this.#nl,
        iface: this.#iface,
        log: this.#log,
        firewall: this.#firewall,
        ports: () => this.#localAttachments(meta).map((r) => r.hostVeth),
        onPass: (s) => this.#metrics?.pass(meta.Name, s),
        onRepair: (k) => this.#metrics?.repair(meta.Name, k),
        onVxlanPeers: () => this.onVxlanPeers?.(),
        protectedAddrs: this.#protectedAddrs,
      },
    );
    const running: Running = { meta, agent };
    this.#running.set(meta.Id, running);
    log.info('network appeared; joining it', { id: meta.Id.slice(0, 12), subnet: meta.Subnet, vni: meta.VNI });
    reclaimEarlierBoots({ dataDir: this.#o.cniDataDir, network: meta.Name, nl: this.#nl, log })
      .then(() => agent.start())
      .then(
        () => {
          if (this.#running.get(meta.Id) !== running) return;
          this.#keepConflist(running);
          return this.#keepDns(running);
        },
        (e: unknown) => {
          if (!agent.signal.aborted) log.error(`cannot join network: ${messageOf(e)}`);
        },
      );
  }

  /** The network's conflist for runtimes, written again if it went missing or was changed. */
  #keepConflist(r: Running): void {
    if (!this.#o.cniConfDir) return;
    const path = conflistFileName(this.#o.cniConfDir, r.meta.Name);
    const text = `${JSON.stringify(this.conflist(r.meta), null, 2)}\n`;
    const now = readIfExists(path);
    if (now === text) return;
    writeFileAtomic(path, text, 0o644);
    if (r.dns !== undefined || now !== undefined) {
      this.#metrics?.repair(r.meta.Name, 'conflist');
      this.#log.warn(`the conflist ${path} was ${now === undefined ? 'missing' : 'changed'}; wrote it again`, { network: r.meta.Name });
    }
  }

  /**
   * The network's DNS servers on its gateway addresses (IPv4, and IPv6 on a dual-stack network): started once
   * the agent serves, again if one failed or died.
   */
  async #keepDns(r: Running): Promise<void> {
    const served = r.agent.served();
    if (!this.#o.dns || !served) return;
    await this.#keepDnsOn(r, 'dns', served.gateway);
    if (served.gateway6) await this.#keepDnsOn(r, 'dns6', served.gateway6);
  }

  async #keepDnsOn(r: Running, which: 'dns' | 'dns6', address: string): Promise<void> {
    if (r[which] && !r[which].closed) return;
    const log = this.#log.child({ network: r.meta.Name });
    const restart = r[which] !== undefined;
    const at = familyOf(address) === 6 ? `[${address}]:53` : `${address}:53`;
    const dns = new DnsServer({
      address,
      network: r.meta.Name,
      log,
      onQuery: (answer) => this.#metrics?.dnsQuery(r.meta.Name, answer),
      directory: () => this.directory(),
      // Endpoints of the network, and this host's own containers on it before the directory knows them (etcd
      // unreachable at start): they sit behind this host's bridge, in its subnets of the network.
      admits: (ip) => isEndpointOf(this.directory(), r.meta.Name, ip) || inSubnets(r.agent.served(), ip),
      subnets: () => [...this.#metas.values()].flatMap((m) => (m.SubnetV6 ? [m.Subnet, m.SubnetV6] : [m.Subnet])),
      upstreams: () =>
        hostResolvers(
          new Set(
            [...this.#running.values()].flatMap((x) => {
              const s = x.agent.served();
              return s ? [s.gateway, ...(s.gateway6 ? [s.gateway6] : [])] : [];
            }),
          ),
        ),
    });
    try {
      await dns.start();
      r[which] = dns;
      if (restart) {
        log.warn(`the DNS server on ${at} had stopped; started it again`);
        this.#metrics?.repair(r.meta.Name, 'dns');
      } else log.info('DNS for container names listening', { address: at });
    } catch (e) {
      dns.close();
      log.error(`cannot serve DNS on ${at}: ${messageOf(e)}; trying again every resync period`);
    }
  }

  async #removeNetwork(id: string, r: Running): Promise<void> {
    this.#running.delete(id);
    r.dns?.close();
    r.dns6?.close();
    if (this.#o.cniConfDir) removeIfExists(conflistFileName(this.#o.cniConfDir, r.meta.Name));
    await r.agent.stop({ teardown: true });
  }

  async #periodic(): Promise<void> {
    // The default network's config can change (or be read at last): named networks are judged against it.
    const dflt = await this.#store.flannelDefault().catch(() => this.#dflt);
    if (JSON.stringify(dflt) !== JSON.stringify(this.#dflt)) {
      this.#dflt = dflt;
      this.#sync();
    }
    for (const r of this.#running.values()) {
      if (!r.agent.served()) continue;
      this.#keepConflist(r);
      await this.#keepDns(r);
      await this.#reconcileEndpoints(r.meta).catch((e) => this.#log.warn(`endpoint records of ${r.meta.Name}: ${messageOf(e)}`));
    }
    this.#keepIsolation();
  }

  /**
   * This host's endpoint records in etcd follow the plugin's local attachment records: a missing one (etcd was
   * unreachable at ADD, or the record was lost) is registered again, one without a local attachment (its DEL
   * could not reach the daemon) is removed.
   *
   * A record is this host's when its HostIP is this host's public address (issue 24), never by node name:
   * hosts left at one host name (cloned VMs) removed each other's records every period as unattached here.
   * The daemon claimed that address as its own at start (host-identity.ts), so no other live host has it.
   */
  async #reconcileEndpoints(meta: NetworkMeta): Promise<void> {
    const local = this.#localAttachments(meta);
    const mine = this.#endpointsOf(meta.Id).filter((e) => this.#isMine(e));
    for (const r of local) {
      const ep = r.endpoint;
      if (!ep || r.state !== 'added' || mine.some((e) => e.Name === ep.name && e.ContainerID === r.containerID)) continue;
      // Read again just before: a DEL that began since the listing has marked the record `removing`.
      if (this.#records(meta).read(r.containerID, r.ifname)?.record?.state !== 'added') continue;
      await this.#store
        .registerEndpoint(
          meta,
          this.endpointRecord(meta, {
            name: ep.name,
            aliases: ep.aliases,
            containerID: r.containerID,
            ifname: r.ifname,
            address: byFamily(r.ips)[4] ?? '',
            address6: byFamily(r.ips)[6],

            mac: ep.mac,
          }),
        )
        .then(
          () => this.#log.info('re-registered an endpoint missing from etcd', { network: meta.Name, name: ep.name }),
          (e) => this.#log.warn(`cannot re-register ${ep.name}: ${messageOf(e)}`),
        );
    }
    // Any local record protects its endpoint, also one still being added (registered, record not yet saved).
    for (const e of mine) {
      if (!local.some((r) => r.containerID === e.ContainerID && r.ifname === e.Interface)) {
        // Judged again on the record as etcd has it then: still this container's and still this host's.
        if (await this.#store.unregisterEndpoint(meta, e.Name, e.ContainerID, { hostIP: this.#iface.publicIP }))
          this.#log.info('removed an endpoint record with no attachment on this host', { network: meta.Name, name: e.Name });
      }
    }
  }

  #isMine(e: Endpoint): boolean {
    return e.HostIP === this.#iface.publicIP;
  }

  /** This boot's attachments of the network on this host, as the CNI plugin recorded them. */
  #localAttachments(meta: NetworkMeta): AttachmentRecord[] {
    const boot = currentBootId();
    return this.#records(meta)
      .list()
      .flatMap((e) => (e.record?.bootId === boot ? [e.record] : []));
  }

  #records(meta: NetworkMeta) {
    return networkState({ dataDir: this.#o.cniDataDir, network: meta.Name }).records;
  }

  /** An endpoint record for an attachment on this host. */
  endpointRecord(meta: NetworkMeta, a: EndpointInput): Endpoint {
    return {
      Name: a.name,
      EndpointID: createHash('sha256').update(`${meta.Id}/${a.containerID}/${a.ifname}`).digest('hex'),
      NetworkID: meta.Id,
      Network: meta.Name,
      Host: this.#o.nodeName,
      HostIP: this.#iface.publicIP,
      ContainerID: a.containerID,
      Interface: a.ifname,
      IPv4Address: a.address,
      IPv6Address: a.address6 ?? '',
      MacAddress: a.mac,
      Aliases: a.aliases,
      Created: new Date().toISOString(),
    };
  }
}

/** Whether `ip` is in this host's subnets of a network it serves. */
function inSubnets(served: Served | undefined, ip: string): boolean {
  const a = parseAddr(ip);
  return (
    !!served &&
    !!a &&
    [served.subnet, served.subnet6].some((s) => {
      const p = s === undefined ? undefined : parsePrefix(s);
      return !!p?.ok && containsIP(p.value, a.family, a.ip);
    })
  );
}

/**
 * A named network's leases in etcd, its agent served the network config its meta implies (networkConfigOf), the
 * meta having passed #judge. The `config` key beside the meta is written from it at creation, so flannel's
 * readers see the network; one that says anything else (another range or VNI, Learning, a port) was written
 * past the API (issue 25): it is not served, and said once.
 */
class NamedLeaseSource extends EtcdLeaseSource {
  readonly #meta: NetworkMeta;
  readonly #warn: (msg: string) => void;
  #said: string | undefined;

  constructor(store: ConstructorParameters<typeof EtcdLeaseSource>[0], log: Logger, meta: NetworkMeta) {
    super(store, log);
    this.#meta = meta;
    this.#warn = (msg) => log.warn(msg);
  }

  override async readConfig(): Promise<string | undefined> {
    const problem = configProblem(this.#meta, await super.readConfig().catch(() => undefined));
    if (problem !== undefined && problem !== this.#said) this.#warn(`ignoring the network config ${this.configWhere}: ${problem}`);
    this.#said = problem;
    return networkConfigOf(this.#meta);
  }
}
