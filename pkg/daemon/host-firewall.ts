/**
 * The host-wide tables of issue 25, kept with weft's other tables by the FirewallKeeper (so a flush or a
 * firewall reload is repaired the same way):
 *
 * - the port guard (pkg/firewall/guard.ts): its elements from every network's attachment records on this host
 *   (what each port may send as), asked for at each keeper pass after the ruleset was listed; its quarantine
 *   from the kernel's ports on named networks' bridges that have no record. Within a moment of a port's link
 *   notification the quarantine is changed over nfnetlink, so a port weft did not make is cut off at once;
 * - the VXLAN filter (pkg/firewall/underlay.ts): every VTEP's port, and per VNI the public addresses its
 *   network's agent programs FDB entries to. An agent about to program new peers waits for admitPeers, which
 *   adds and deletes pairs over nfnetlink (a millisecond).
 *
 * Between the keeper's passes (at start, every resync period, and when a change over nfnetlink fails) nothing
 * here runs `nft`: a pass is three synchronous `nft` runs that block the daemon's event loop (hundreds of ms
 * on a busy host, issue 28), too long to pay for every container and every lease change.
 *
 * Records are files the CNI plugin writes as root on this host; each value still goes through portOf before
 * it reaches nft, and a record that does not pass is left out (and its port, on a named network, quarantined).
 */
import { currentBootId, networkState, type AttachmentRecord } from '../contract/mod.ts';
import { messageOf } from '../errors/mod.ts';
import {
  GUARD_TABLE,
  guardElements,
  guardTable,
  portOf,
  quarantineKeys,
  VXLAN_TABLE,
  vxlanElements,
  vxlanKeys,
  vxlanTable,
  type FirewallKeeper,
  type GuardedPort,
  type VxlanSource,
} from '../firewall/mod.ts';
import { NfTables, type KernelEvent, type KernelOps, type SetKeys } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import { bridgeName } from '../networks/mod.ts';

/** A network with containers on this host: its name ("" for the flannel default network). */
export interface GuardedNetwork {
  readonly network: string;
  /**
   * Whether only weft puts ports on its bridge (named networks): a port there without a record is quarantined.
   * Not cni0, where pods the flannel CNI attached before weft took the host over keep working unguarded.
   */
  readonly exclusive: boolean;
}

export interface HostFirewallSources {
  readonly networks: () => readonly GuardedNetwork[];
  readonly vxlan: () => readonly VxlanSource[];
}

/** Link notifications come in bursts (a veth pair, its master, up): one pass for a burst. */
const SOON_MS = 30;

export class HostFirewall {
  readonly #nl: Pick<KernelOps, 'listLinks'>;
  readonly #firewall: FirewallKeeper;
  readonly #log: Logger;
  readonly #dataDir: string;
  readonly #sources: HostFirewallSources;
  /** Ports on named networks' bridges, as the last listing of links had them. */
  #exclusivePorts: readonly string[] = [];
  /** The quarantine the kernel holds, as far as this host knows (the last pass's, and changes since). */
  #quarantined = new Set<string>();
  /** The VXLAN table as last wanted, without its elements ('' while no VTEP runs here). */
  #vxlanBody = '';
  /** The VXLAN pairs the kernel holds, as far as this host knows (the last pass's, and those admitted since). */
  #admitted = new Set<string>();
  #soon: NodeJS.Timeout | undefined;
  #quick: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: {
    nl: Pick<KernelOps, 'listLinks'>;
    firewall: FirewallKeeper;
    log: Logger;
    dataDir: string;
    sources: HostFirewallSources;
  }) {
    this.#nl = deps.nl;
    this.#firewall = deps.firewall;
    this.#log = deps.log;
    this.#dataDir = deps.dataDir;
    this.#sources = deps.sources;
  }

  /** Wants both tables and makes a first pass. */
  start(): Promise<void> {
    this.#firewall.want({ ...guardTable(), elements: () => this.#elements() });
    return this.refresh();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#soon);
    clearTimeout(this.#quick);
  }

  /** A link appeared, changed or went: ports may have come or gone, the quarantine is judged again. */
  onKernelEvent(e: KernelEvent): void {
    if (this.#stopped || (e.kind !== 'link' && e.kind !== 'overflow')) return;
    this.#quick ??= setTimeout(() => {
      this.#quick = undefined;
      void this.#keepQuarantine();
    }, SOON_MS);
  }

  /** The quarantine as the ports and records are now, changed over nfnetlink; a full pass if that fails. */
  async #keepQuarantine(): Promise<void> {
    await this.#listPorts();
    const want = new Set(this.#records().quarantine);
    const add = [...want].filter((n) => !this.#quarantined.has(n));
    const del = [...this.#quarantined].filter((n) => !want.has(n));
    if (add.length + del.length === 0) return;
    if (await this.#change('bridge', GUARD_TABLE, { add: quarantineKeys(add), del: quarantineKeys(del) })) this.#quarantined = want;
    else this.soon();
  }

  /** A change over nfnetlink; false when the kernel refused it (a table flushed, an element already gone). */
  async #change(family: 'bridge' | 'inet', table: string, o: { add: readonly SetKeys[]; del: readonly SetKeys[] }): Promise<boolean> {
    const nf = NfTables.open();
    try {
      await nf.changeElements(family, table, o);
      return true;
    } catch {
      return false;
    } finally {
      nf.close();
    }
  }

  /** A pass within a moment (a burst of notifications, or an agent's peers changing, makes one pass). */
  soon(): void {
    if (this.#stopped) return;
    this.#soon ??= setTimeout(() => {
      this.#soon = undefined;
      void this.refresh();
    }, SOON_MS);
  }

  /**
   * Lists the links, wants the VXLAN table as the agents have it now, and has the keeper compare and apply;
   * resolves once a pass that began after this call is done (admitPeers relies on that when the table itself
   * has to change first).
   */
  refresh(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#pass().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    // A pass is under way with what it read before this call: one more after it, shared by every such caller.
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.refresh();
    });
    return this.#queued;
  }

  async #listPorts(): Promise<void> {
    try {
      const links = await this.#nl.listLinks();
      const bridges = new Set(this.#sources.networks().flatMap((n) => (n.exclusive ? [bridgeName(n.network)] : [])));
      const masters = new Set(links.filter((l) => bridges.has(l.name)).map((l) => l.index));
      this.#exclusivePorts = links.filter((l) => l.master !== undefined && masters.has(l.master)).map((l) => l.name);
    } catch (e) {
      this.#log.warn(`port guard: cannot list links: ${messageOf(e)}; its quarantine stays as it was`);
    }
  }

  async #pass(): Promise<void> {
    await this.#listPorts();
    const t = vxlanTable(this.#sources.vxlan());
    const key = t ? t.body.join('\n') : '';
    // Until an agent has read its config the filter a previous run left stays: it is never opened at start.
    if (key !== this.#vxlanBody) {
      if (t) this.#firewall.want({ ...t, elements: () => this.#vxlanElements() });
      else this.#firewall.unwant({ family: 'inet', name: VXLAN_TABLE });
      this.#vxlanBody = key;
    }
    await this.#firewall.sync();
  }

  /**
   * Before an agent programs new peers: the VXLAN filter's pairs become the agents' at once, over nfnetlink,
   * so new peers' first datagrams are accepted (a keeper pass after the peers were programmed took long enough
   * for a returning peer's first replies to be dropped: test/chaos/leases.test.ts). Without the table yet, or
   * when the kernel refuses the change (the table flushed), a full pass instead.
   */
  async admitPeers(): Promise<void> {
    const src = this.#sources.vxlan();
    const t = vxlanTable(src);
    if (!t || t.body.join('\n') !== this.#vxlanBody) return this.refresh();
    const e = vxlanElements(src);
    const want = new Set([...e.peers4, ...e.peers6]);
    const add = [...want].filter((x) => !this.#admitted.has(x));
    const del = [...this.#admitted].filter((x) => !want.has(x));
    if (add.length + del.length === 0) return;
    if (await this.#change('inet', VXLAN_TABLE, { add: vxlanKeys(add), del: vxlanKeys(del) })) this.#admitted = want;
    else await this.refresh();
  }

  #vxlanElements(): ReturnType<typeof vxlanElements> {
    const e = vxlanElements(this.#sources.vxlan());
    this.#admitted = new Set([...e.peers4, ...e.peers6]);
    return e;
  }

  /** The guard's elements now (read after the keeper listed the ruleset); the quarantine they hold is what the kernel will. */
  #elements(): ReturnType<typeof guardElements> {
    const { ports, quarantine } = this.#records();
    this.#quarantined = new Set(quarantine);
    return guardElements(ports, quarantine);
  }

  /** Every record of this boot as a port to check, and the ports on named networks' bridges that have none. */
  #records(): { ports: GuardedPort[]; quarantine: string[] } {
    const boot = currentBootId();
    const ports: GuardedPort[] = [];
    const known = new Set<string>();
    for (const { network } of this.#sources.networks()) {
      for (const e of networkState({ dataDir: this.#dataDir, network }).records.list()) {
        const r = e.record;
        if (r?.bootId !== boot) continue;
        const mac = macOf(r);
        // An ADD between making the veth and saving its MAC: the plugin adds the port itself before it comes up.
        if (mac === undefined) known.add(r.hostVeth);
        const p = mac === undefined ? undefined : portOf({ hostVeth: r.hostVeth, mac, ips: r.ips });
        if (!p) continue;
        ports.push(p);
        known.add(p.name);
      }
    }
    return { ports, quarantine: this.#exclusivePorts.filter((n) => !known.has(n)) };
  }
}

/**
 * The MAC an attachment's port may send with: saved in the record since issue 25; for a record written before,
 * the named endpoint's, or the one the CNI result reported for the container's interface.
 */
function macOf(r: AttachmentRecord): string | undefined {
  return r.mac ?? (r.endpoint?.mac || undefined) ?? r.result?.interfaces?.find((i) => i.sandbox !== undefined)?.mac;
}
