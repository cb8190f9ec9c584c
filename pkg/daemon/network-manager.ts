/**
 * The daemon's named networks (docs/adr/0003). It follows `<root>/networks/` in etcd: a network that appears
 * gets an agent on this host (its lease, VXLAN device, bridge and peers); once the agent serves, the
 * network's DNS server starts on the bridge address and its conflist is written for runtimes; a network that
 * disappears is torn down here (its lease given up, so nothing of it stays in etcd). It also keeps the endpoint
 * directory (every host's endpoints, for DNS and inspect), the isolation rules, this host's endpoint records
 * equal to the CNI plugin's local records, and every network's conflist and DNS listener in place.
 */
import type { DirectoryEntry } from '../dns/mod.ts';
import { messageOf, WeftError } from '../errors/mod.ts';
import { NetworkAgent, type AgentDeps, type AgentSpec, type AgentStatus, type ExternalInterface, type Served } from '../agent/mod.ts';
import { ISOLATION_TABLE, isolationTable, type FirewallKeeper, type VxlanSource } from '../firewall/mod.ts';
import type { NetworkStatus } from '../contract/status.ts';
import type { KernelEvent, Netlink } from '../kernel/mod.ts';
import { realClock, type Clock, type Timer } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import {
  conflistFileName,
  inspectObject,
  leaseFileName,
  printable,
  validateEndpoint,
  type CreateRequest,
  type DefaultNetwork,
  type Endpoint,
  type LsRow,
  type NetworkMeta,
} from '../networks/mod.ts';
import type { NetworkStore, PrefixFeed } from '../store/mod.ts';
import type { DaemonMetrics } from './metrics.ts';
import { reclaimEarlierBoots } from './previous-boot.ts';
import { bridgeName, vxlanDeviceName } from '../networks/names.ts';
import { endpointRecord, localAttachments, reconcileEndpoints, type EndpointInput, type ThisHost } from './local-endpoints.ts';
import { NamedLeaseSource } from './named-lease-source.ts';
import { NetworkRecords } from './network-records.ts';
import { RunningNetwork, type ManagedAgent, type ServicesContext } from './running-network.ts';

export type { EndpointInput } from './local-endpoints.ts';

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

export interface ManagerDeps {
  readonly store: NetworkStore;
  readonly nl: Netlink;
  readonly iface: ExternalInterface;
  readonly log: Logger;
  readonly firewall: FirewallKeeper;
  readonly metrics?: DaemonMetrics;
  /** Addresses no peer's lease may claim (the etcd endpoints'). */
  readonly protectedAddrs?: readonly string[];
  /** Time for the resync period and the watch's retries (default: the real clock). */
  readonly clock?: Clock;
  /** Makes a network's agent (default: a NetworkAgent; unit tests give one without a kernel). */
  readonly agent?: (spec: AgentSpec, deps: AgentDeps) => ManagedAgent;
}

export class NetworkManager {
  readonly #store: NetworkStore;
  readonly #nl: Netlink;
  readonly #iface: ExternalInterface;
  readonly #log: Logger;
  readonly #firewall: FirewallKeeper;
  readonly #metrics: DaemonMetrics | undefined;
  readonly #protectedAddrs: readonly string[];
  readonly #clock: Clock;
  readonly #newAgent: (spec: AgentSpec, deps: AgentDeps) => ManagedAgent;
  readonly #o: ManagerOptions;
  readonly #host: ThisHost;
  /** The records etcd has, and those that passed: only these reach an agent, the firewall, DNS or a file path. */
  readonly #records: NetworkRecords;
  /** The flannel default network's ranges and VNI, which named networks are judged against. */
  #dflt: DefaultNetwork | undefined;
  readonly #running = new Map<string, RunningNetwork>();
  /** What each network's DNS servers and conflist need of the manager. */
  readonly #services: ServicesContext;
  #feed: PrefixFeed | undefined;
  #timer: Timer | undefined;
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
    this.#clock = deps.clock ?? realClock;
    this.#newAgent = deps.agent ?? ((spec, d) => new NetworkAgent(spec, d));
    this.#o = opts;
    this.#host = { nodeName: opts.nodeName, publicIP: deps.iface.publicIP };
    this.#records = new NetworkRecords(opts.root, (msg) => this.#log.warn(msg));
    this.#services = {
      cniConfDir: opts.cniConfDir,
      dns: opts.dns,
      log: deps.log,
      metrics: deps.metrics,
      conflist: (m) => this.conflist(m),
      directory: () => this.directory(),
      subnets: () => this.metas().flatMap((m) => (m.SubnetV6 ? [m.Subnet, m.SubnetV6] : [m.Subnet])),
      gateways: () =>
        new Set(
          [...this.#running.values()].flatMap((x) => {
            const s = x.agent.served();
            return s ? [s.gateway, ...(s.gateway6 ? [s.gateway6] : [])] : [];
          }),
        ),
    };
  }

  async start(): Promise<void> {
    this.#dflt = await this.#store.flannelDefault().catch(() => undefined);
    this.#feed = this.#store.watch(
      {
        snapshot: (kvs) => {
          this.#records.reset(kvs);
          this.#sync();
        },
        changes: (c) => {
          this.#records.change(c);
          this.#sync();
        },
        log: (level, msg) => this.#log[level](msg),
      },
      this.#clock,
    );
    await this.#feed.start();
    // Every period, whether or not the last pass has finished (as setInterval did).
    const tick = () => {
      this.#timer = this.#clock.timer(tick, this.#o.agent.resyncMs);
      void this.#periodic();
    };
    this.#timer = this.#clock.timer(tick, this.#o.agent.resyncMs);
  }

  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#feed?.stop();
    for (const r of this.#running.values()) await r.stop();
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
    return [...this.#records.metas.values()];
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

  // ---- what the local API asks (pkg/daemon/api-server.ts)

  /** A network by name, ID or ID prefix: this host's view first, etcd's otherwise. */
  async #meta(ref: string): Promise<NetworkMeta> {
    const m = this.metas().find((x) => x.Name === ref || x.Id === ref) ?? (await this.#store.find(ref));
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
    const ep = endpointRecord(net, input, this.#host);
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
    return this.#records.directory();
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

  /** Judges the records, starts agents for new networks, tears down removed ones, and refreshes the isolation rules. */
  #sync(): void {
    this.#records.judge(this.#dflt);
    const metas = this.#records.metas;
    let changed = false;
    for (const [id, meta] of metas)
      if (!this.#running.has(id)) {
        this.#startNetwork(meta);
        changed = true;
      }
    for (const [id, r] of this.#running)
      if (!metas.has(id)) {
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
    const metas = this.metas();
    const ranges = metas.flatMap((m) => [
      { name: m.Name, subnet: m.Subnet },
      ...(m.SubnetV6 ? [{ name: m.Name, subnet: m.SubnetV6 }] : []),
    ]);
    for (const subnet of this.#o.defaultRanges()) ranges.push({ name: 'default', subnet });
    const devices = [
      ...metas.map((m) => ({ name: m.Name, devices: [bridgeName(m.Name), vxlanDeviceName(m.Name, m.VNI)] })),
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
    const agent = this.#newAgent(
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
        ports: () => localAttachments(this.#o.cniDataDir, meta).map((r) => r.hostVeth),
        onPass: (s) => this.#metrics?.pass(meta.Name, s),
        onRepair: (k) => this.#metrics?.repair(meta.Name, k),
        onVxlanPeers: () => this.onVxlanPeers?.(),
        protectedAddrs: this.#protectedAddrs,
      },
    );
    const running = new RunningNetwork(meta, agent, this.#services);
    this.#running.set(meta.Id, running);
    log.info('network appeared; joining it', { id: meta.Id.slice(0, 12), subnet: meta.Subnet, vni: meta.VNI });
    reclaimEarlierBoots({ dataDir: this.#o.cniDataDir, network: meta.Name, nl: this.#nl, log })
      .then(() => agent.start())
      .then(
        () => {
          if (this.#running.get(meta.Id) !== running) return;
          running.keepConflist();
          return running.keepDns();
        },
        (e: unknown) => {
          if (!agent.signal.aborted) log.error(`cannot join network: ${messageOf(e)}`);
        },
      );
  }

  async #removeNetwork(id: string, r: RunningNetwork): Promise<void> {
    this.#running.delete(id);
    await r.stop({ teardown: true });
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
      r.keepConflist();
      await r.keepDns();
      await reconcileEndpoints(r.meta, this.#records.endpointsOf(r.meta.Id), {
        store: this.#store,
        log: this.#log,
        dataDir: this.#o.cniDataDir,
        host: this.#host,
      }).catch((e) => this.#log.warn(`endpoint records of ${r.meta.Name}: ${messageOf(e)}`));
    }
    this.#keepIsolation();
  }
}
