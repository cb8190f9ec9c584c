/**
 * Simulated hosts on one machine: an underlay switch in its own namespace, hosts as namespaces plugged into
 * it with TEST-NET-1 addresses (192.0.2.0/24), and plain-kernel pods behind a host. Every namespace carries
 * the caller's prefix and is recorded, so `destroy()` (or `destroyByPrefix()` after a crash) removes
 * everything, and nothing ever touches the root namespace. Used by the root tests, the benchmarks and the lab.
 */
import { createNamedNetns, deleteNamedNetns, isGone, listNamedNetns, Netlink, openNetns, type Link, type Netns } from '../kernel/mod.ts';
import { hostSysctls, keepHostSysctls } from '../forwarding/mod.ts';

export const UNDERLAY_PREFIX = '192.0.2';
/** The IPv6 underlay of hosts added with `ipv6` (documentation range 2001:db8::/32). */
export const UNDERLAY6_PREFIX = '2001:db8::';

export interface SimNs {
  readonly name: string;
  readonly path: string;
  readonly netns: Netns;
  readonly nl: Netlink;
}

export interface SimHost extends SimNs {
  readonly n: number;
  /** The host's underlay address, 192.0.2.<n>. */
  readonly ip: string;
  /** With `ipv6`: its IPv6 underlay address, 2001:db8::<n>. */
  readonly ip6?: string;
  /** The host's uplink (eth0) as it was after setup. */
  readonly uplink: Link;
}

export interface PodSpec {
  readonly name: string;
  readonly bridge: string;
  /** Gateway address with prefix, put on the bridge when it is first made (e.g. 10.244.1.1/24). */
  readonly gateway: string;
  /** The pod's address with prefix (e.g. 10.244.1.2/24). */
  readonly address: string;
  readonly mtu?: number;
}

export class Sim {
  readonly prefix: string;
  readonly #made: SimNs[] = [];
  readonly #opened: SimNs[] = [];
  #underlay: Promise<{ ns: SimNs; bridge: Link }> | undefined;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** A namespace `<prefix><tag>` with `lo` up, tracked for destroy(). */
  async namespace(tag: string): Promise<SimNs> {
    const name = `${this.prefix}${tag}`;
    const netns = createNamedNetns(name);
    const nl = Netlink.open({ netns });
    const ns: SimNs = { name, path: netns.path, netns, nl };
    this.#made.push(ns);
    await nl.setUp((await nl.getLink('lo')).index);
    return ns;
  }

  /**
   * Takes up a topology an earlier process built (the lab's later commands): the underlay, so hosts can be
   * added; namespaces opened here are closed, not deleted, by destroy().
   */
  static async reattach(prefix: string): Promise<Sim> {
    const sim = new Sim(prefix);
    const name = `${prefix}underlay`;
    const netns = openNetns(`/run/netns/${name}`);
    const nl = Netlink.open({ netns });
    sim.#opened.push({ name, path: netns.path, netns, nl });
    sim.#underlay = Promise.resolve({ ns: { name, path: netns.path, netns, nl }, bridge: await nl.getLink('ul0') });
    return sim;
  }

  /** The underlay switch: namespace `<prefix>underlay` holding bridge `ul0`. Made on first use. */
  underlay(): Promise<{ ns: SimNs; bridge: Link }> {
    // Memoise the promise, not the result: hosts added concurrently must share one underlay.
    this.#underlay ??= (async () => {
      const ns = await this.namespace('underlay');
      const bridge = await ns.nl.addBridge({ name: 'ul0' });
      await ns.nl.setUp(bridge.index);
      return { ns, bridge };
    })();
    return this.#underlay;
  }

  /**
   * Host n (1..254): namespace `<prefix>h<n>`, uplink eth0 = 192.0.2.<n>/24 on the underlay, forwarding on;
   * with `ipv6`, also 2001:db8::<n>/64 on eth0 (no duplicate detection: usable at once), IPv6 forwarding and
   * eth0's accept_ra 2, as the host rule has it.
   */
  async addHost(n: number, opts: { mtu?: number; ipv6?: boolean } = {}): Promise<SimHost> {
    const u = await this.underlay();
    const ns = await this.namespace(`h${n}`);
    const mtu = opts.mtu ?? 1500;
    const port = await u.ns.nl.addVeth({ name: `h${n}`, mtu, peer: { name: 'eth0', netns: ns.netns, mtu } });
    await u.ns.nl.setMaster(port.index, u.bridge.index);
    await u.ns.nl.setUp(port.index);
    const eth0 = await ns.nl.getLink('eth0');
    await ns.nl.addAddr({ index: eth0.index, cidr: `${UNDERLAY_PREFIX}.${n}/24` });
    await ns.nl.setUp(eth0.index);
    const ip6 = opts.ipv6 ? `${UNDERLAY6_PREFIX}${n.toString(16)}` : undefined;
    if (ip6) await ns.nl.addAddr({ index: eth0.index, cidr: `${ip6}/64`, noDad: true });
    // The host rule every weft host follows (pkg/forwarding), with eth0 as the underlay.
    const r = keepHostSysctls(ns.nl, hostSysctls({ families: ip6 ? [4, 6] : [4], underlays: ['eth0'] }));
    if (r.failed[0]) throw r.failed[0].error;
    return { ...ns, n, ip: `${UNDERLAY_PREFIX}.${n}`, ...(ip6 && { ip6 }), uplink: await ns.nl.getLink('eth0') };
  }

  /**
   * A pod namespace behind `host` wired by plain kernel calls: a veth from the host's bridge (made on first
   * use with the gateway address) into the pod as eth0, default route via the gateway. This is what the CNI
   * plugin automates; the kernel tests use it directly.
   */
  async addPod(host: SimHost, spec: PodSpec): Promise<SimNs> {
    const pod = await this.namespace(`h${host.n}-${spec.name}`);
    const mtu = spec.mtu ?? 1450;
    let br = await host.nl.findLink(spec.bridge);
    if (!br) {
      br = await host.nl.addBridge({ name: spec.bridge, mtu });
      await host.nl.addAddr({ index: br.index, cidr: spec.gateway });
      await host.nl.setUp(br.index);
    }
    const hostEnd = await host.nl.addVeth({ name: `v${spec.name}`.slice(0, 15), mtu, peer: { name: 'eth0', netns: pod.netns, mtu } });
    await host.nl.setMaster(hostEnd.index, br.index);
    await host.nl.setUp(hostEnd.index);
    const eth0 = await pod.nl.getLink('eth0');
    await pod.nl.addAddr({ index: eth0.index, cidr: spec.address });
    await pod.nl.setUp(eth0.index);
    await pod.nl.addRoute({ dst: '0.0.0.0/0', gateway: spec.gateway.split('/')[0]! });
    return pod;
  }

  /** Removes the namespaces this Sim made whose names `match` (a host's reboot takes its containers with it). */
  removeNamespaces(match: (name: string) => boolean): string[] {
    const gone = this.#made.filter((ns) => match(ns.name));
    for (const ns of gone.reverse()) {
      ns.nl.close();
      ns.netns.close();
      deleteNamedNetns(ns.name);
    }
    const names = new Set(gone.map((ns) => ns.name));
    this.#made.splice(0, this.#made.length, ...this.#made.filter((ns) => !names.has(ns.name)));
    return [...names];
  }

  /** Removes host n and its pods (namespaces `h<n>`, `h<n>-*`) and its port on the underlay, so it can be added again. */
  async removeHost(n: number): Promise<void> {
    this.removeNamespaces((name) => name === `${this.prefix}h${n}` || name.startsWith(`${this.prefix}h${n}-`));
    // The kernel removes the underlay end of a deleted namespace's veth asynchronously: take it now.
    const u = await this.underlay();
    const port = await u.ns.nl.findLink(`h${n}`);
    if (port)
      await u.ns.nl.deleteLink(port.index).catch((e: unknown) => {
        if (!isGone(e)) throw e;
      });
  }

  /** Closes the handles of namespaces it made or opened, leaving them in place (the lab's `up`). */
  release(): void {
    for (const ns of [...this.#made.splice(0), ...this.#opened.splice(0)]) {
      ns.nl.close();
      ns.netns.close();
    }
    this.#underlay = undefined;
  }

  /** Removes every namespace this Sim made (their links go with them). Safe to call twice. */
  destroy(): void {
    for (const ns of this.#opened.splice(0)) {
      ns.nl.close();
      ns.netns.close();
    }
    for (const ns of this.#made.splice(0).reverse()) {
      ns.nl.close();
      ns.netns.close();
      deleteNamedNetns(ns.name);
    }
    this.#underlay = undefined;
  }
}

/** Removes every named namespace starting with `prefix`, e.g. after a crash left them behind. */
export function destroyByPrefix(prefix: string): string[] {
  const gone = listNamedNetns().filter((n) => n.startsWith(prefix));
  for (const n of gone) deleteNamedNetns(n);
  return gone;
}
