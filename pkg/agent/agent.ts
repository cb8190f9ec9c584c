/**
 * One network on this host (docs/adr/0002): wait for the network's config, hold a subnet lease, run the
 * VTEP, write the subnet file the CNI plugin reads, keep masquerade rules, and keep the kernel equal to what
 * the leases say: the VXLAN device and its attributes, the network's bridge with its address and the host
 * ends of this host's containers, every peer's route, neighbour and FDB entry, and forwarding.
 *
 * Start-up order matters for pods: the subnet file is written only after the lease is held and the VTEP
 * configured, and the agent reports ready only after the first reconcile programmed every known peer (flannel
 * writes subnet.env before programming peers, so a pod could start with no routes).
 *
 * A dual-stack network (EnableIPv6, issue 15) adds an IPv6 half: the lease key's IPv6 part, each dual-stack
 * peer's IPv6 route and neighbour, the bridge's IPv6 gateway, FLANNEL_IPV6_* in the subnet file, ip6
 * masquerade and IPv6 forwarding. The flannel default network carries it as flannel does (`device`): a second
 * VTEP, `flannel-v6.<VNI>`, over the underlay's IPv6 address, with its own MAC and FDB entries, and
 * containers get the smaller of the two VTEP MTUs so a full-size packet of either family crosses whole.
 * Named networks carry it inside their one VTEP (`inner`): no IPv6 underlay needed, as Docker's overlay. An
 * IPv6-only named network keys, addresses and routes its one VTEP in IPv6 (families.ts).
 *
 * Self-healing (issue 11): every reconcile pass compares the kernel with the desired state and repairs what
 * differs, with one warn line naming what was wrong; passes run after lease changes, on every resync, and
 * within a moment of a kernel notification touching this network's devices or routes.
 *
 * Cost at scale (issue 28): a pass dumps the kernel's peer entries only when the kernel may differ from what
 * weft last told it (the intent, pkg/overlay/intent.ts): at start, after a notification the intent does not
 * explain (not the echo of weft's own write), a lost notification (overflow), a failed write, a recreated
 * VTEP, and every FULL_CHECK_EVERY-th resync as a backstop. A lease change otherwise diffs the new plan
 * against the intent and writes only its own entries; a resync checks the devices, forwarding and the subnet
 * file, which no notification covers wholly (sysctls send none), and re-plans from memory.
 */
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { parseSubnetEnv } from '../../flannel-compat/subnet-env.ts';
import { attachPorts, bridgeDrift, bridgeMac, ensureBridge, type BridgeSpec } from '../bridge/mod.ts';
import type { LeaseConflictStatus, NetworkStatus } from '../contract/status.ts';
import { messageOf } from '../errors/mod.ts';
import { readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';
import { flannelMasqTable, masqTableName, nftFamily, type FirewallKeeper } from '../firewall/mod.ts';
import { hostSysctls, keepHostSysctls, sysctlName } from '../forwarding/mod.ts';
import type { KernelEvent, KernelOps, Link } from '../kernel/mod.ts';
import { realClock, type Clock, type HeldLease, type LeaseSource, type SubnetLease, type Timer } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import { containsPrefix, parsePrefix } from '../netaddr/cidr.ts';
import { FAMILIES, hostPrefixOf, type Family, type PerFamily } from '../netaddr/family.ts';
import { bridgeName, firstAddress, vxlanDeviceName, vxlanDeviceName6 } from '../networks/mod.ts';
import { describeOp, ensureVtep, eventDrifts, vtepDrift, vtepMtu, type DeviceIntent, type VtepSpec } from '../overlay/mod.ts';
import { familiesOf, ipv6Half, keyConfig, masqSpecOf, servedFamilies, subnetFileText, subnetsOf, type Families } from './families.ts';
import type { ExternalInterface } from './iface.ts';
import { keepPeers, peerPlans, peersOfFamily, type DevicePlan, type PeersPass } from './peers.ts';
import { Reconciler } from './reconciler.ts';
import { networkReport, type AgentSnapshot } from './report.ts';
import { screenLeases } from './screen.ts';
import { loadVtepMac } from './vtep-mac.ts';

export interface AgentSpec {
  /** "_default" for the flannel default network, else the weft network's name. */
  readonly key: string;
  /** "" for the flannel default network, else the weft network's name (devices and bridge are named after it). */
  readonly network: string;
  /** The agent makes and keeps the network's bridge (named networks: their DNS server binds to it). */
  readonly ownsBridge: boolean;
  readonly subnetFile: string;
  readonly stateDir: string;
  readonly ipMasq: boolean;
  readonly ipMasqFullyRandom: boolean;
  readonly forwardRules: boolean;
  readonly renewMarginMs: number;
  readonly leaseTtlSeconds: number;
  readonly resyncMs: number;
}

export interface AgentDeps {
  readonly source: (log: Logger) => LeaseSource;
  readonly nl: KernelOps;
  readonly iface: ExternalInterface;
  readonly log: Logger;
  readonly firewall: FirewallKeeper;
  /** The host ends of this host's containers on the network (this boot's attachments), for the bridge. */
  readonly ports: () => readonly string[];
  /** Time for retries, the resync period and the kernel-event delay (default: the real clock). */
  readonly clock?: Clock;
  /** Addresses no peer's lease may claim besides the underlay's and this host's own: the etcd endpoints'. */
  readonly protectedAddrs?: readonly string[];
  /** Told of each reconcile pass (seconds) and each repair (by kind), for the metrics. */
  readonly onPass?: (seconds: number) => void;
  readonly onRepair?: (kind: RepairKind) => void;
  /**
   * Told when the hosts this network sends VXLAN to change (the daemon accepts VXLAN only from them); the pass
   * programs the peers once it resolves, so a new peer's datagrams are accepted before this host answers it.
   */
  readonly onVxlanPeers?: () => Promise<void> | void;
}

/** What a repair was of: the metrics' `kind` label. */
export type RepairKind = 'vxlan_device' | 'bridge' | 'peers' | 'forwarding' | 'subnet_file';

interface Repair {
  readonly kind: RepairKind;
  readonly text: string;
}

/** What the agent serves on this host once ready. */
export interface Served {
  readonly subnet: string;
  readonly gateway: string;
  /** A dual-stack network's IPv6 subnet and gateway here. */
  readonly subnet6: string | undefined;
  readonly gateway6: string | undefined;
  readonly device: string;
  readonly bridge: string;
  readonly mtu: number;
}

export interface ReconcileSummary {
  readonly at: string;
  readonly ms: number;
  readonly applied: number;
  readonly failed: number;
  /** Things found wrong in the kernel and put right in this pass (not changes the leases asked for). */
  readonly repairs: readonly string[];
}

export interface AgentStatus {
  readonly network: string;
  /** Whether the network's config exists in etcd (a host may run without the flannel default network). */
  readonly configured: boolean;
  readonly ready: boolean;
  readonly reason: string | undefined;
  readonly subnet: string | undefined;
  readonly subnet6: string | undefined;
  readonly device: string | undefined;
  readonly device6: string | undefined;
  readonly peers: number;
  readonly lastReconcile: ReconcileSummary | undefined;
  /** Repairs made since start. */
  readonly repairs: number;
}

const CONFIG_RETRY_MS = 1000;
/** Kernel notifications come in bursts (a flush, a device deleted with its entries): one pass for a burst. */
const KERNEL_EVENT_DELAY_MS = 50;
/**
 * Every this many resyncs the kernel is dumped and diffed in full even if no notification said anything
 * changed: a backstop should a change ever go unnotified (30 s x 10: every 5 minutes by default).
 */
const FULL_CHECK_EVERY = 10;

export class NetworkAgent {
  readonly #spec: AgentSpec;
  readonly #d: AgentDeps;
  readonly #source: LeaseSource;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #peers = new Map<string, SubnetLease>();
  /** Peers' keys left out because they claim addresses another key claims, as last screened (by key). */
  #conflicts = new Map<string, LeaseConflictStatus>();
  /** Invalid peers' keys already logged, with the reason (said again only when it changes). */
  #invalidSaid = new Map<string, string>();
  #reconciler: Reconciler | undefined;
  #resync: Timer | undefined;
  #soon: Timer | undefined;
  #config: Families | undefined;
  /**
   * The network's VTEPs by the family each is addressed in: the network's own by its key family (IPv6 for an
   * IPv6-only network), and a dual-stack default network's `flannel-v6.<VNI>` by 6. The index is the kernel's.
   */
  readonly #vteps = new Map<Family, { readonly spec: VtepSpec; index: number }>();
  #bridgeIndex = 0;
  #synced = false;
  #configured = false;
  #reason: string | undefined = 'starting';
  #last: ReconcileSummary | undefined;
  #repairs = 0;
  /** Lease changes since the last pass: kernel differences they explain are changes, not repairs. */
  #leasesChanged = true;
  /**
   * What the last pass told the kernel to hold on each VTEP, set before its writes so their notifications
   * read as echoes; undefined until the kernel was first observed.
   */
  #intent: DeviceIntent[] | undefined;
  /** The kernel may differ from the intent: the next pass dumps and diffs it in full. */
  #kernelDirty = true;
  /** The next pass also checks the VTEPs, the bridge and forwarding (a resync, or one of their notifications). */
  #checkDevices = true;
  #resyncs = 0;
  /** Bumped by every lease change: a pass whose inputs (this, the VTEPs, the held subnets) did not change need not plan. */
  #leaseGen = 0;
  #planned: { readonly key: string; readonly plans: DevicePlan[] } | undefined;
  #peerList: { readonly key: string; readonly leases: SubnetLease[] } | undefined;
  #screenMemo: { readonly key: string; readonly verdicts: WeakMap<SubnetLease, string | null> } = { key: '', verdicts: new WeakMap() };
  #verbose: { readonly key: string; readonly peers: NetworkStatus['peers']; readonly desired: NetworkStatus['desired'] } | undefined;
  #plannedFor: string | undefined;
  /** The public addresses the last pass programmed FDB entries to: the only hosts VXLAN is taken from. */
  #vxlanPeers: readonly string[] = [];

  constructor(spec: AgentSpec, deps: AgentDeps) {
    this.#spec = spec;
    this.#d = deps;
    this.#log = deps.log.child({ network: spec.key });
    this.#clock = deps.clock ?? realClock;
    this.#source = deps.source(this.#log);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  status(): AgentStatus {
    const held = this.#source.held;
    const keeperState = this.#source.state;
    const reason = this.#reason ?? (keeperState && !keeperState.ok ? keeperState.reason : undefined);
    return {
      network: this.#spec.key,
      configured: this.#configured,
      ready: this.#synced && reason === undefined,
      reason,
      subnet: held?.subnet,
      subnet6: held?.subnet6,
      device: this.#vtep()?.name,
      device6: this.#ipv6HalfVtep()?.name,
      peers: this.#peers.size,
      lastReconcile: this.#last,
      repairs: this.#repairs,
    };
  }

  /**
   * Resolves once the agent is serving (lease held, subnet file written, peers programmed); rejects with the abort reason when
   * stopped first.
   */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    const families = await this.#waitForConfig();
    const { keyFamily, vx, six } = families;
    const range = keyConfig(families);
    const range6 = ipv6Half(families);
    this.#config = families;
    const name = vxlanDeviceName(this.#spec.network, vx.vni);
    const existing = await this.#d.nl.findLink(name);
    const mac = loadVtepMac(this.#spec.stateDir, this.#spec.key, vx.vni, existing?.mac);
    const mtu = vtepMtu(vx.mtu ?? this.#d.iface.mtu, 4);
    const name6 = vxlanDeviceName6(this.#spec.network, vx.vni);
    const mac6 =
      six === 'device' && loadVtepMac(this.#spec.stateDir, `${this.#spec.key}.v6`, vx.vni, (await this.#d.nl.findLink(name6))?.mac);
    const { publicIP, publicIPv6 } = this.#d.iface;
    const value = encodeLeaseAttrs({
      publicIP,
      vxlan: { vni: vx.vni, vtepMac: mac },
      ...(mac6 && { publicIPv6: publicIPv6!, vxlanV6: { vni: vx.vni, vtepMac: mac6 } }),
    });
    this.#reason = 'acquiring a lease';
    const previous = this.#previousSubnets();
    const held = await this.#source.acquire(
      {
        config: range,
        config6: range6,
        previousSubnet6: previous?.ipv6Subnet,
        publicIP: this.#d.iface.publicIP,
        vni: vx.vni,
        vtepMac: mac,
        ...(mac6 && { vtepMac6: mac6, publicIPv6 }),
        value,
        previousSubnet: keyFamily === 6 ? previous?.ipv6Subnet : previous?.subnet,
        pinned: await this.#hasContainers(),
        renewMarginMs: this.#spec.renewMarginMs,
        ttlSeconds: this.#spec.leaseTtlSeconds,
      },
      signal,
    );
    const vtep: VtepSpec = {
      name,
      vni: vx.vni,
      port: vx.port,
      local: this.#d.iface.vtepLocal,
      dev: this.#d.iface.index,
      learning: vx.learning,
      gbp: vx.gbp,
      mtu,
      mac,
      address: hostPrefixOf(held.subnet.split('/')[0]!),
      clusterNetwork: range.network,
    };
    this.#vteps.set(keyFamily, { spec: vtep, index: (await ensureVtep(this.#d.nl, vtep, (msg) => this.#log.warn(msg))).index });
    // A lease without an IPv6 half (Kubernetes' podCIDR of one family) serves IPv4 only.
    if (!held.subnet6) this.#config = { ...families, six: undefined };
    if (six === 'device' && range6 && mac6 && held.subnet6) {
      const vtep6: VtepSpec = {
        ...vtep,
        name: name6,
        local: this.#d.iface.vtepLocal6!,
        mtu: vtepMtu(vx.mtu ?? this.#d.iface.mtu, 6),
        mac: mac6,
        address: `${held.subnet6.split('/')[0]}/128`,
        clusterNetwork: range6.network,
      };
      this.#vteps.set(6, { spec: vtep6, index: (await ensureVtep(this.#d.nl, vtep6, (msg) => this.#log.warn(msg))).index });
    }
    // Awaited: the masquerade and the isolation table (wanted before this agent started) are in place before
    // the subnet file lets the CNI plugin attach anything.
    await this.#wantFirewall(held);
    if (this.#spec.ownsBridge) this.#bridgeIndex = (await ensureBridge(this.#d.nl, this.#bridgeSpec(held))).index;
    this.#writeSubnetFile(held);

    this.#reconciler = new Reconciler(() => this.#reconcile());
    this.#reason = 'programming peers';
    const changed = () => {
      this.#leasesChanged = true;
      this.#leaseGen++;
      void this.#reconciler?.trigger();
    };
    await this.#source.watchPeers({
      snapshot: (peers) => {
        this.#peers.clear();
        for (const p of peers) this.#peers.set(p.key, p);
        changed();
      },
      put: (p) => {
        this.#peers.set(p.key, p);
        changed();
      },
      remove: (key) => {
        if (this.#peers.delete(key)) changed();
      },
    });
    signal.throwIfAborted();
    await this.#reconciler.trigger();
    this.#synced = true;
    this.#reason = undefined;
    this.#log.info('ready', {
      subnet: held.subnet,
      device: name,
      mac,
      mtu,
      ...(this.#config.six && { subnet6: held.subnet6 }),
      ...(this.#ipv6HalfVtep() && { device6: name6, mac6, mtu6: this.#ipv6HalfVtep()!.mtu }),
      peers: this.#peers.size,
    });
    this.#scheduleResync();
  }

  #scheduleResync(): void {
    this.#resync = this.#clock.timer(() => {
      void this.#periodic().finally(() => {
        if (!this.#abort.signal.aborted) this.#scheduleResync();
      });
    }, this.#spec.resyncMs);
  }

  /** The network's range once its config is read (for isolation between networks). */
  clusterNetwork(): string | undefined {
    return this.#config && keyConfig(this.#config).network;
  }

  /** A dual-stack network's IPv6 range once its config is read. */
  clusterNetwork6(): string | undefined {
    return this.#config && ipv6Half(this.#config)?.network;
  }

  /** The network's VTEP: addressed in its key family, it also carries a named network's IPv6 half (`inner`). */
  #vtep(): VtepSpec | undefined {
    return this.#config && this.#vteps.get(this.#config.keyFamily)?.spec;
  }

  /** The VTEP of a dual-stack network's IPv6 half when that travels on a device of its own (`device`). */
  #ipv6HalfVtep(): VtepSpec | undefined {
    return this.#config?.keyFamily === 4 ? this.#vteps.get(6)?.spec : undefined;
  }

  /** The VTEPs' ifindexes, by family: what a plan is made for. */
  #vtepIndexes(): PerFamily<number> {
    return Object.fromEntries([...this.#vteps].map(([f, v]) => [f, v.index]));
  }

  /** What containers on this network get: the smaller VTEP MTU, so a full-size packet of either family fits. */
  #podMtu(): number {
    return Math.min(...[...this.#vteps.values()].map((v) => v.spec.mtu));
  }

  /**
   * This network's VXLAN as the VXLAN filter needs it (issue 25), once its config is read: its VTEPs' UDP port
   * (0: the kernel's default), its VNI, and the hosts it sends to (each peer's public address of either
   * family, as last programmed).
   */
  vxlanSource(): { port: number; vni: number; peers: readonly string[] } | undefined {
    const vx = this.#config?.vx;
    return vx && { port: vx.port, vni: vx.vni, peers: this.#vxlanPeers };
  }

  /** Every other host's lease of the network as this host programs it: subnet and public address. */
  peerLeases(): Array<{ subnet: string; publicIP: string }> {
    return this.#peerLeases().map((l) => ({ subnet: l.subnet, publicIP: l.attrs.publicIP }));
  }

  #peerLeases(): SubnetLease[] {
    const family = this.#config?.keyFamily ?? 4;
    const key = `${this.#leaseGen} ${family}`;
    if (this.#peerList?.key !== key) this.#peerList = { key, leases: peersOfFamily(this.#peers.values(), family) };
    return this.#peerList.leases;
  }

  /** What this host serves for the network, once ready. */
  served(): Served | undefined {
    const held = this.#source.held;
    const vtep = this.#vtep();
    if (!this.#synced || !held || !vtep) return undefined;
    return {
      subnet: held.subnet,
      gateway: firstAddress(held.subnet),
      subnet6: this.#config?.six && held.subnet6,
      gateway6: this.#config?.six && held.subnet6 && firstAddress(held.subnet6),
      device: vtep.name,
      bridge: bridgeName(this.#spec.network),
      mtu: this.#podMtu(),
    };
  }

  /** A kernel change: a pass soon if it touches this network's devices, entries or routes. */
  onKernelEvent(e: KernelEvent): void {
    if (!this.#synced) return;
    // The echo of weft's own write, or an entry it does not keep: nothing to repair.
    const drift = this.#intent && eventDrifts(this.#intent, e);
    if (drift === false || (drift === undefined && !this.#relevant(e))) return;
    this.#kernelDirty = true;
    if (e.kind === 'link' || e.kind === 'addr' || e.kind === 'overflow') this.#checkDevices = true;
    this.#soon ??= this.#clock.timer(() => {
      this.#soon = undefined;
      void this.#reconciler?.trigger();
    }, KERNEL_EVENT_DELAY_MS);
  }

  #relevant(e: KernelEvent): boolean {
    const vteps = [...this.#vteps.values()];
    const ownVtep = (i: number) => vteps.some((v) => v.index === i);
    const own = (i: number) => ownVtep(i) || (i === this.#bridgeIndex && i !== 0);
    switch (e.kind) {
      case 'overflow':
        return true;
      case 'link':
        return own(e.index) || vteps.some((v) => v.spec.name === e.name) || e.name === bridgeName(this.#spec.network);
      case 'addr':
        return own(e.index);
      // The bridge's neighbours and FDB are learned from containers' traffic: none of them is weft's to keep.
      case 'neigh':
      case 'fdb':
        return ownVtep(e.index);
      case 'route': {
        if (e.oif !== undefined && own(e.oif)) return true;
        const dst = parsePrefix(e.dst);
        return Object.values(this.#config?.configs ?? {}).some((range) => {
          const cluster = parsePrefix(range.network);
          return cluster.ok && dst.ok && containsPrefix(cluster.value, dst.value);
        });
      }
    }
  }

  /**
   * Stops; the lease is kept (a restart reuses it). With `teardown` (the network was removed) the lease is
   * given up, and the device, the bridge, the rules and the subnet file go too.
   */
  async stop(opts: { teardown?: boolean } = {}): Promise<void> {
    this.#abort.abort(new Error('the network agent was stopped'));
    this.#resync?.cancel();
    this.#soon?.cancel();
    this.#source.stop();
    await this.#reconciler?.stop();
    if (!opts.teardown) return;
    await this.#source.release().catch((e: unknown) => this.#log.warn(`cannot give the lease up: ${messageOf(e)}`));
    for (const link of [...[...this.#vteps.values()].map((v) => v.spec.name), bridgeName(this.#spec.network)]) {
      try {
        const l = await this.#d.nl.findLink(link);
        if (l) await this.#d.nl.deleteLink(l.index);
      } catch (e) {
        this.#log.warn(`cannot remove ${link}: ${messageOf(e)}`);
      }
    }
    for (const family of FAMILIES) this.#d.firewall.unwant({ family: nftFamily(family), name: masqTableName(this.#spec.key) });
    await this.#d.firewall.sync();
    removeIfExists(this.#spec.subnetFile);
    this.#log.info('network removed from this host');
  }

  #bridgeSpec(held: HeldLease): BridgeSpec {
    const name = bridgeName(this.#spec.network);
    const subnets = subnetsOf(this.#config!, held);
    const gateways = subnets.map((s) => `${firstAddress(s)}/${s.split('/')[1]!}`);
    return { name, mtu: this.#podMtu(), mac: bridgeMac(name, subnets), gateways };
  }

  async #waitForConfig(): Promise<Families> {
    let said = '';
    const signal = this.#abort.signal;
    for (;;) {
      signal.throwIfAborted();
      let problem: string;
      try {
        const text = await this.#source.readConfig();
        this.#configured = text !== undefined;
        if (text === undefined) problem = `network config ${this.#source.configWhere} does not exist yet; ${this.#source.configHint}`;
        else {
          const cfg = parseNetworkConfig(text);
          const vx = cfg.ok ? parseVxlanBackend(cfg.value) : cfg;
          const f = !cfg.ok ? cfg : !vx.ok ? vx : familiesOf(cfg.value, vx.value, this.#spec.network, this.#d.iface);
          if (f.ok) return f.value;
          problem = `network config ${this.#source.configWhere} cannot be served: ${f.reason}`;
        }
      } catch (e) {
        problem = messageOf(e);
      }
      this.#reason = problem;
      if (problem !== said) this.#log.warn(`${problem}; retrying every ${CONFIG_RETRY_MS / 1000} s`);
      said = problem;
      await this.#clock.sleep(CONFIG_RETRY_MS, signal);
    }
  }

  #previousSubnets(): { subnet: string | undefined; ipv6Subnet: string | undefined } | undefined {
    const text = readIfExists(this.#spec.subnetFile);
    const e = text === undefined ? undefined : parseSubnetEnv(text);
    return e?.ok ? e.value : undefined;
  }

  /** Whether containers are attached here: the network's bridge has ports (the kernel's word, not a file's). */
  async #hasContainers(): Promise<boolean> {
    const br = await this.#d.nl.findLink(bridgeName(this.#spec.network));
    return !!br && (await this.#d.nl.listLinks()).some((l) => l.master === br.index);
  }

  async #wantFirewall(held: HeldLease): Promise<void> {
    const spec = masqSpecOf(this.#spec.key, this.#config!, held, this.#spec.ipMasqFullyRandom);
    for (const family of FAMILIES) {
      const t = flannelMasqTable(spec, { masquerade: this.#spec.ipMasq, forward: this.#spec.forwardRules }, family);
      if (t) this.#d.firewall.want(t);
      else this.#d.firewall.unwant({ family: nftFamily(family), name: masqTableName(this.#spec.key) });
    }
    await this.#d.firewall.sync();
  }

  /** What this network is on this host, for `weft status`; with `verbose`, every peer and the desired kernel state. */
  report(verbose: boolean): NetworkStatus {
    const held = this.#source.held;
    const v = this.#vtep();
    const snapshot: AgentSnapshot = {
      network: this.#spec.network,
      status: this.status(),
      vni: this.#config?.vx.vni,
      expiresAt: held?.expiresAt,
      vtep: v,
      peers: this.#peerLeases(),
      conflicts: [...this.#conflicts.values()],
    };
    if (!verbose || !held || !v || !this.#config) return networkReport(snapshot, verbose);
    const ports = this.#d.ports();
    const [main, six] = this.#plans(held);
    const subnetFile = { path: this.#spec.subnetFile, text: this.#subnetFileText(held) };
    // The verbose parts (every peer, the desired state) again only when their inputs changed: status.json is
    // written every resync, and the same objects let writeStatusFile see that nothing changed (issue 28).
    const key = JSON.stringify([this.#planned?.key, ports, subnetFile.text, snapshot.conflicts]);
    if (this.#verbose?.key !== key) {
      const full = networkReport(
        {
          ...snapshot,
          desired: {
            plan: main!.want,
            scopes: main!.scopes,
            ...(six && this.#ipv6HalfVtep() && { v6: { vtep: this.#ipv6HalfVtep()!, plan: six.want, scopes: six.scopes } }),
            underlay: { name: this.#d.iface.name, mtu: this.#d.iface.mtu },
            subnetLen: keyConfig(this.#config).subnetLen,
            bridge: this.#spec.ownsBridge || ports.length > 0 ? { ...this.#bridgeSpec(held), ports } : undefined,
            subnetFile,
          },
        },
        verbose,
      );
      this.#verbose = { key, peers: full.peers, desired: full.desired };
    }
    const { peers, desired } = this.#verbose;
    return { ...networkReport(snapshot, false), peers, ...(desired && { desired }) };
  }

  #subnetFileText(held: HeldLease): string {
    return subnetFileText(this.#config!, held, {
      mtu: this.#podMtu(),
      ipMasq: this.#spec.ipMasq,
      device: this.#vtep()!.name,
      device6: this.#ipv6HalfVtep()?.name,
    });
  }

  #writeSubnetFile(held: HeldLease): void {
    const text = this.#subnetFileText(held);
    const now = readIfExists(this.#spec.subnetFile);
    if (now === text) return;
    writeFileAtomic(this.#spec.subnetFile, text, 0o644);
    if (this.#synced) {
      this.#log.warn(`the subnet file ${this.#spec.subnetFile} was ${now === undefined ? 'missing' : 'changed'}; wrote it again`);
      this.#repaired('subnet_file');
    } else this.#log.info('subnet file written', { path: this.#spec.subnetFile });
  }

  /** A VTEP as wanted; repaired (recreated, or attributes set back) when it differs. */
  async #keepVtep(want: VtepSpec, repairs: Repair[]): Promise<Link> {
    const have = await this.#d.nl.findLink(want.name);
    const drift = vtepDrift(have, have ? await this.#d.nl.listAddrs({ index: have.index }) : [], want);
    if (drift.length === 0) return have!;
    const dev = await ensureVtep(this.#d.nl, want, () => {});
    repairs.push({ kind: 'vxlan_device', text: `${want.name}: ${drift.join(', ')}` });
    return dev;
  }

  /** The bridge (when the agent owns it, or containers use it) with its address and every container's host end on it. */
  async #keepBridge(held: HeldLease, repairs: Repair[]): Promise<void> {
    const names = new Set(this.#d.ports());
    if (!this.#spec.ownsBridge && names.size === 0) return;
    const spec = this.#bridgeSpec(held);
    const links = await this.#d.nl.listLinks();
    const have = links.find((l) => l.name === spec.name);
    const ports = links.filter((l) => names.has(l.name));
    const drift = bridgeDrift(have, have ? await this.#d.nl.listAddrs({ index: have.index }) : [], spec, ports);
    if (drift.length === 0) {
      this.#bridgeIndex = have!.index;
      return;
    }
    const br = await ensureBridge(this.#d.nl, spec);
    await attachPorts(this.#d.nl, br, ports);
    this.#bridgeIndex = br.index;
    repairs.push({ kind: 'bridge', text: `${spec.name}: ${drift.join(', ')}` });
  }

  async #reconcile(): Promise<boolean> {
    const held = this.#source.held;
    if (!held || !this.#vtep() || !this.#config || this.#abort.signal.aborted) return true;
    const t0 = performance.now();
    const leasesChanged = this.#leasesChanged;
    this.#leasesChanged = false;
    let full = this.#kernelDirty || !this.#intent;
    const devices = full || this.#checkDevices;
    this.#kernelDirty = false;
    this.#checkDevices = false;
    const repairs: Repair[] = [];
    try {
      if (devices) {
        const before = JSON.stringify(this.#vtepIndexes());
        for (const v of this.#vteps.values()) v.index = (await this.#keepVtep(v.spec, repairs)).index;
        // A recreated VTEP came back empty, whatever the intent says.
        if (before !== JSON.stringify(this.#vtepIndexes())) full = true;
        await this.#keepBridge(held, repairs);
      }
      // Nothing the plan depends on changed and the kernel holds the intent: a resync has no peer work to do.
      const inputs = `${this.#leaseGen} ${JSON.stringify(this.#vtepIndexes())} ${held.subnet} ${held.subnet6}`;
      let pass: PeersPass = { ops: [], applied: 0, failed: 0 };
      let peers = 0;
      if (full || inputs !== this.#plannedFor) {
        const plans = this.#plans(held);
        await this.#noteVxlanPeers(plans);
        this.#plannedFor = inputs;
        const last = full ? undefined : this.#intent;
        this.#intent = plans.map((p) => ({ index: p.index, want: p.want }));
        pass = await keepPeers(this.#d.nl, this.#log, plans, last);
        peers = plans[0]!.want.routes.size;
      }
      const { ops, applied, failed } = pass;
      // A write the kernel refused leaves it unlike the intent: the retry looks at the kernel.
      if (failed > 0) this.#kernelDirty = true;
      // Entries that differ while no lease changed were changed behind weft's back.
      if (ops.length > 0 && !leasesChanged) {
        const more = ops.length > 4 ? `; and ${ops.length - 4} more` : '';
        repairs.push({ kind: 'peers', text: `peer entries: ${ops.slice(0, 4).map(describeOp).join('; ')}${more}` });
      }
      if (devices) this.#keepHost(this.#config, repairs);
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      const texts = repairs.map((r) => r.text);
      this.#last = { at: new Date().toISOString(), ms, applied, failed, repairs: texts };
      this.#d.onPass?.(ms / 1000);
      for (const r of repairs) this.#repaired(r.kind);
      if (repairs.length > 0) this.#log.warn(`repaired what changed behind weft's back: ${texts.join(' | ')}`);
      else if (ops.length > 0) this.#log.info('reconciled', { peers, applied, failed, ms });
      return failed === 0;
    } catch (e) {
      this.#kernelDirty = true;
      this.#log.warn(`reconcile failed: ${messageOf(e)}`);
      return false;
    }
  }

  /** The host rule (pkg/forwarding) for the families this host serves the network in: forwarding, the underlay's accept_ra. */
  #keepHost(f: Families, repairs: Repair[]): void {
    const plan = hostSysctls({ families: servedFamilies(f), underlays: [this.#d.iface.name] });
    const r = keepHostSysctls(this.#d.nl, plan);
    for (const { setting: s, error } of r.failed) this.#log.warn(`cannot set ${sysctlName(s.key)} to ${s.value}: ${messageOf(error)}`);
    for (const { setting: s, was } of r.changed) {
      const name = sysctlName(s.key);
      // Set by the first pass, it is set up rather than repaired.
      if (this.#synced) repairs.push({ kind: 'forwarding', text: `${name} was ${was}: set to ${s.value}` });
      else this.#log.info(`set ${name} to ${s.value} (it was ${was})`);
    }
  }

  /** What the FDB entries of `plans` send to, told to the daemon when it changed (issue 25). */
  async #noteVxlanPeers(plans: readonly DevicePlan[]): Promise<void> {
    const now = [...new Set(plans.flatMap((p) => [...p.want.fdb.values()]))].sort();
    if (now.join() === this.#vxlanPeers.join()) return;
    this.#vxlanPeers = now;
    await this.#d.onVxlanPeers?.();
  }

  #repaired(kind: RepairKind): void {
    this.#repairs++;
    this.#d.onRepair?.(kind);
  }

  /** The peers' entries as wanted on each of this network's VTEPs. */
  /**
   * The plans for the peers as they are; the same inputs give the same plans, so they are kept (a status pass
   * re-planned and re-screened 5,000 peers every resync: most of the daemon's CPU at rest; issue 28).
   */
  #plans(held: HeldLease): DevicePlan[] {
    const key = JSON.stringify([this.#leaseGen, this.#vtepIndexes(), held.key, held.createRevision, held.subnet6, this.#config]);
    if (this.#planned?.key !== key) this.#planned = { key, plans: this.#plansNow(held) };
    return this.#planned.plans;
  }

  #plansNow(held: HeldLease): DevicePlan[] {
    return peerPlans({
      f: this.#config!,
      held,
      peers: this.#screen(held),
      iface: this.#d.iface,
      vteps: this.#vtepIndexes(),
    });
  }

  /**
   * The peers this host programs (screen.ts): a lease outside the network's range, on the underlay's, this
   * host's or etcd's addresses, or with a non-unicast PublicIP is left out, and so is one claiming addresses of
   * this host's key or an earlier peer's (the earlier creation wins); each is logged once, never skipped silently.
   */
  #screen(held: HeldLease): SubnetLease[] {
    const i = this.#d.iface;
    const forbidden = [
      ...i.prefixes,
      i.address,
      i.publicIP,
      i.vtepLocal,
      ...(i.publicIPv6 ? [i.publicIPv6] : []),
      ...(this.#d.protectedAddrs ?? []),
    ];
    const memoKey = JSON.stringify([this.#config, forbidden]);
    if (this.#screenMemo.key !== memoKey) this.#screenMemo = { key: memoKey, verdicts: new WeakMap() };
    const { kept, invalid, conflicts } = screenLeases({
      f: this.#config!,
      own: { key: held.key, subnet: held.subnet, ipv6Subnet: held.subnet6, createRevision: held.createRevision },
      peers: this.#peers.values(),
      memo: this.#screenMemo.verdicts,
      forbidden,
    });
    const said = new Map<string, string>();
    for (const { lease: l, why } of invalid) {
      if (this.#invalidSaid.get(l.key) !== why) this.#log.warn(`ignoring the lease ${l.key} (host ${l.attrs.publicIP}): ${why}`);
      said.set(l.key, why);
    }
    this.#invalidSaid = said;
    const now = new Map<string, LeaseConflictStatus>();
    for (const { lease: l, with: w } of conflicts) {
      now.set(l.key, { key: l.key, publicIP: l.attrs.publicIP, subnet: l.subnet, ...(l.ipv6Subnet && { subnet6: l.ipv6Subnet }), with: w });
      if (this.#conflicts.get(l.key)?.with !== w)
        this.#log.error(
          `lease conflict: ${l.key} (host ${l.attrs.publicIP}) claims addresses that ` +
            `${w === held.key ? "this host's own" : 'an earlier'} key ${w} holds; ` +
            'it is not programmed here: delete the later key, or stop the host that wrote it',
        );
    }
    this.#conflicts = now;
    return kept;
  }

  async #periodic(): Promise<void> {
    const held = this.#source.held;
    if (!held || !this.#vtep()) return;
    this.#writeSubnetFile(held);
    this.#checkDevices = true;
    if (++this.#resyncs % FULL_CHECK_EVERY === 0) this.#kernelDirty = true;
    await this.#reconciler?.trigger();
  }
}
