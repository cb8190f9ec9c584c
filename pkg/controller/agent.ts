/**
 * One network on this host (docs/adr/0002): wait for the network's config, hold a subnet lease, run the
 * VTEP, write the subnet file the CNI plugin reads, keep masquerade rules, and keep the kernel's peer entries
 * equal to the leases in etcd.
 *
 * Start-up order matters for pods: the subnet file is written only after the lease is held and the VTEP
 * configured, and the agent reports ready only after the first reconcile programmed every known peer (flannel
 * writes subnet.env before programming peers, so a pod could start with no routes).
 */
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { parseNetworkConfig, parseVxlanBackend, type FamilyConfig, type VxlanBackendConfig } from '../../flannel-compat/network-config.ts';
import { formatSubnetEnv, parseSubnetEnv } from '../../flannel-compat/subnet-env.ts';
import { messageOf } from '../errors/mod.ts';
import { readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';
import { bridgeMac, ensureBridge, type BridgeSpec } from '../bridge/mod.ts';
import { bridgeName, firstAddress, vxlanDeviceName } from '../networks/mod.ts';
import type { Link, Netlink } from '../kernel/mod.ts';
import type { SubnetLease } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import { applyOverlay, describeOp, diffOverlay, ensureVtep, observeOverlay, onLinkOf, planPeers } from '../overlay/mod.ts';
import type { ExternalInterface } from './iface.ts';
import type { HeldLease } from './lease-keeper.ts';
import type { LeaseSource } from './lease-source.ts';
import { applyMasquerade, removeMasquerade } from './masq.ts';
import { Reconciler } from './reconciler.ts';
import { loadVtepMac } from './vtep-mac.ts';

export interface AgentSpec {
  /** "_default" for the flannel default network, else the weft network's name. */
  readonly key: string;
  /** "" for the flannel default network, else the weft network's name (devices and bridge are named after it). */
  readonly network: string;
  /** Make the network's bridge with its gateway address now (named networks: their DNS server binds to it). */
  readonly preCreateBridge: boolean;
  readonly subnetFile: string;
  readonly stateDir: string;
  readonly ipMasq: boolean;
  readonly ipMasqFullyRandom: boolean;
  readonly forwardRules: boolean;
  readonly renewMarginMs: number;
  readonly leaseTtlSeconds: number;
  readonly resyncMs: number;
}

/** What the agent serves on this host once ready. */
export interface Served {
  readonly subnet: string;
  readonly gateway: string;
  readonly device: string;
  readonly bridge: string;
  readonly mtu: number;
}

export interface AgentStatus {
  readonly network: string;
  /** Whether the network's config exists in etcd (a host may run without the flannel default network). */
  readonly configured: boolean;
  readonly ready: boolean;
  readonly reason: string | undefined;
  readonly subnet: string | undefined;
  readonly device: string | undefined;
  readonly peers: number;
  readonly lastReconcile: { readonly at: string; readonly ms: number; readonly applied: number; readonly failed: number } | undefined;
}

const CONFIG_RETRY_MS = 1000;

export class NetworkAgent {
  readonly #spec: AgentSpec;
  readonly #source: LeaseSource;
  readonly #nl: Netlink;
  readonly #iface: ExternalInterface;
  readonly #log: Logger;
  readonly #peers = new Map<string, SubnetLease>();
  #reconciler: Reconciler | undefined;
  #resync: NodeJS.Timeout | undefined;
  #config: { fam: FamilyConfig; vx: VxlanBackendConfig } | undefined;
  #vtep: { name: string; mac: string; mtu: number; index: number } | undefined;
  #synced = false;
  #configured = false;
  #stopped = false;
  #reason: string | undefined = 'starting';
  #last: AgentStatus['lastReconcile'];

  constructor(spec: AgentSpec, deps: { source: (log: Logger) => LeaseSource; nl: Netlink; iface: ExternalInterface; log: Logger }) {
    this.#spec = spec;
    this.#nl = deps.nl;
    this.#iface = deps.iface;
    this.#log = deps.log.child({ network: spec.key });
    this.#source = deps.source(this.#log);
  }

  status(): AgentStatus {
    const held = this.#source.held;
    const keeperState = this.#source.state;
    const reason = this.#reason ?? (keeperState && !keeperState.ok ? keeperState.reason : undefined);
    return {
      network: this.#spec.key, configured: this.#configured, ready: this.#synced && reason === undefined, reason, subnet: held?.subnet, device: this.#vtep?.name,
      peers: this.#peers.size, lastReconcile: this.#last,
    };
  }

  /** Runs until stop(): resolves once the agent is serving (lease held, subnet file written, peers programmed). */
  async start(): Promise<void> {
    const { fam, vx } = await this.#waitForConfig();
    this.#config = { fam, vx };
    const name = vxlanDeviceName(this.#spec.network, vx.vni);
    const existing = await this.#nl.findLink(name);
    const mac = loadVtepMac(this.#spec.stateDir, this.#spec.key, vx.vni, existing?.mac);
    const mtu = (vx.mtu ?? this.#iface.mtu) - 50;
    const value = encodeLeaseAttrs({ publicIP: this.#iface.publicIP, vxlan: { vni: vx.vni, vtepMac: mac } });
    this.#reason = 'acquiring a lease';
    const held = await this.#source.acquire({
      config: fam, publicIP: this.#iface.publicIP, vni: vx.vni, vtepMac: mac, value, previousSubnet: this.#previousSubnet(),
      renewMarginMs: this.#spec.renewMarginMs, ttlSeconds: this.#spec.leaseTtlSeconds,
    });
    const dev = await this.#ensureDevice(name, mac, mtu, held);
    this.#vtep = { name, mac, mtu, index: dev.index };
    this.#applyRules(held);
    if (this.#spec.preCreateBridge) await ensureBridge(this.#nl, this.#bridgeSpec(held, dev.mtu));
    this.#writeSubnetFile(held, dev.mtu, name);

    this.#reconciler = new Reconciler(() => this.#reconcile());
    this.#reason = 'programming peers';
    await this.#source.watchPeers({
      snapshot: (peers) => {
        this.#peers.clear();
        for (const p of peers) this.#peers.set(p.key, p);
        void this.#reconciler?.trigger();
      },
      put: (p) => {
        this.#peers.set(p.key, p);
        void this.#reconciler?.trigger();
      },
      remove: (key) => {
        if (this.#peers.delete(key)) void this.#reconciler?.trigger();
      },
    });
    await this.#reconciler.trigger();
    this.#synced = true;
    this.#reason = undefined;
    this.#log.info('ready', { subnet: held.subnet, device: name, mac, mtu: dev.mtu, peers: this.#peers.size });
    this.#resync = setInterval(() => void this.#periodic(), this.#spec.resyncMs);
  }

  /** The network's range once its config is read (for isolation between networks). */
  clusterNetwork(): string | undefined {
    return this.#config?.fam.network;
  }

  /** What this host serves for the network, once ready. */
  served(): Served | undefined {
    const held = this.#source.held;
    if (!this.#synced || !held || !this.#vtep) return undefined;
    return { subnet: held.subnet, gateway: firstAddress(held.subnet), device: this.#vtep.name, bridge: bridgeName(this.#spec.network), mtu: this.#vtep.mtu };
  }

  /**
   * Stops; the lease is kept (a restart reuses it). With `teardown` (the network was removed) the device,
   * the bridge, the rules and the subnet file go too.
   */
  async stop(opts: { teardown?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resync);
    this.#source.stop();
    this.#reconciler?.stop();
    if (!opts.teardown) return;
    for (const link of [this.#vtep?.name, bridgeName(this.#spec.network)]) {
      if (!link) continue;
      try {
        const l = await this.#nl.findLink(link);
        if (l) await this.#nl.deleteLink(l.index);
      } catch (e) {
        this.#log.warn(`cannot remove ${link}: ${messageOf(e)}`);
      }
    }
    removeMasquerade(this.#spec.key);
    removeIfExists(this.#spec.subnetFile);
    this.#log.info('network removed from this host');
  }

  #bridgeSpec(held: HeldLease, mtu: number): BridgeSpec {
    const name = bridgeName(this.#spec.network);
    const len = held.subnet.split('/')[1]!;
    return { name, mtu, mac: bridgeMac(name, [held.subnet]), gateways: [`${firstAddress(held.subnet)}/${len}`] };
  }

  async #waitForConfig(): Promise<{ fam: FamilyConfig; vx: VxlanBackendConfig }> {
    let said = '';
    while (!this.#stopped) {
      let problem: string;
      try {
        const text = await this.#source.readConfig();
        this.#configured = text !== undefined;
        if (text === undefined) problem = `network config ${this.#source.configWhere} does not exist yet; ${this.#source.configHint}`;
        else {
          const cfg = parseNetworkConfig(text);
          const vx = cfg.ok ? parseVxlanBackend(cfg.value) : cfg;
          if (cfg.ok && vx.ok && cfg.value.ipv4) return { fam: cfg.value.ipv4, vx: vx.value };
          problem = `network config ${this.#source.configWhere} is invalid: ${!cfg.ok ? cfg.reason : !vx.ok ? vx.reason : 'weft serves IPv4 overlays; set EnableIPv4'}`;
        }
      } catch (e) {
        problem = messageOf(e);
      }
      this.#reason = problem;
      if (problem !== said) this.#log.warn(`${problem}; retrying every ${CONFIG_RETRY_MS / 1000} s`);
      said = problem;
      await new Promise((r) => setTimeout(r, CONFIG_RETRY_MS));
    }
    throw new Error('stopped');
  }

  #previousSubnet(): string | undefined {
    const text = readIfExists(this.#spec.subnetFile);
    const e = text === undefined ? undefined : parseSubnetEnv(text);
    return e?.ok ? e.value.subnet : undefined;
  }

  async #ensureDevice(name: string, mac: string, mtu: number, held: HeldLease): Promise<Link> {
    const { fam, vx } = this.#config!;
    return ensureVtep(this.#nl, {
      name, vni: vx.vni, port: vx.port, local: this.#iface.vtepLocal, dev: this.#iface.index, learning: vx.learning, gbp: vx.gbp,
      mtu, mac, address: `${held.subnet.split('/')[0]}/32`, clusterNetwork: fam.network,
    }, (msg) => this.#log.warn(msg));
  }

  #applyRules(held: HeldLease): void {
    if (!this.#spec.ipMasq && !this.#spec.forwardRules) return;
    try {
      applyMasquerade({
        key: this.#spec.key, clusterNetwork: this.#config!.fam.network, subnet: held.subnet,
        masquerade: this.#spec.ipMasq, forward: this.#spec.forwardRules, fullyRandom: this.#spec.ipMasqFullyRandom,
      });
    } catch (e) {
      this.#log.error(`cannot install the masquerade/forward rules: ${messageOf(e)}`);
    }
  }

  #writeSubnetFile(held: HeldLease, mtu: number, device: string): void {
    const text = formatSubnetEnv({
      networks: [this.#config!.fam.network], subnet: held.subnet, ipv6Networks: [], ipv6Subnet: undefined, mtu, ipMasq: this.#spec.ipMasq,
      extra: { WEFT_VXLAN_DEVICE: device },
    });
    if (readIfExists(this.#spec.subnetFile) !== text) {
      writeFileAtomic(this.#spec.subnetFile, text, 0o644);
      this.#log.info('subnet file written', { path: this.#spec.subnetFile });
    }
  }

  async #reconcile(): Promise<boolean> {
    const held = this.#source.held;
    const vtep = this.#vtep;
    if (!held || !vtep || !this.#config) return true;
    const t0 = performance.now();
    try {
      let dev = await this.#nl.findLink(vtep.name);
      if (!dev) {
        this.#log.warn(`${vtep.name} is gone (deleted, or its underlay device went away); recreating it`);
        dev = await this.#ensureDevice(vtep.name, vtep.mac, vtep.mtu, held);
      }
      this.#vtep = { ...vtep, index: dev.index };
      const want = planPeers({
        ownSubnet: held.subnet, ownPublicIP: this.#iface.publicIP, peers: this.#peers.values(), vxlanIndex: dev.index,
        directRouting: this.#config.vx.directRouting, onLink: onLinkOf(this.#iface.prefixes),
      });
      const have = await observeOverlay(this.#nl, { vxlanIndex: dev.index, clusterNetwork: this.#config.fam.network, subnetLen: this.#config.fam.subnetLen, ownSubnet: held.subnet });
      const ops = diffOverlay(want, have);
      const report = await applyOverlay(this.#nl, dev.index, ops);
      for (const f of report.failed) this.#log.warn(`could not ${describeOp(f.op)}: ${messageOf(f.error)}`);
      const ms = performance.now() - t0;
      this.#last = { at: new Date().toISOString(), ms: Math.round(ms * 10) / 10, applied: report.applied, failed: report.failed.length };
      if (ops.length > 0) this.#log.info('reconciled', { peers: want.routes.size, applied: report.applied, failed: report.failed.length, ms: this.#last.ms });
      return report.failed.length === 0;
    } catch (e) {
      this.#log.warn(`reconcile failed: ${messageOf(e)}`);
      return false;
    }
  }

  async #periodic(): Promise<void> {
    const held = this.#source.held;
    if (!held || !this.#vtep) return;
    this.#applyRules(held);
    this.#writeSubnetFile(held, this.#vtep.mtu, this.#vtep.name);
    await this.#reconciler?.trigger();
  }
}

