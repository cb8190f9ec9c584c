/**
 * The host-wide tables of issue 25, kept with weft's other tables by the FirewallKeeper (so a flush or a
 * firewall reload is repaired the same way):
 *
 * - the port guard (pkg/firewall/guard.ts): its elements from every network's attachment records on this host
 *   (what each port may send as), asked for at each keeper pass after the ruleset was listed; its quarantine
 *   from the kernel's ports on named networks' bridges that have no record. A port's link notification starts
 *   a pass within a moment, so a port weft did not make is cut off at once, and one whose elements the plugin
 *   could not add is checked all the same;
 * - the VXLAN filter (pkg/firewall/underlay.ts): every VTEP's port, and per VNI the public addresses its
 *   network's agent programs FDB entries to. An agent about to program a new peer waits for admitPeers, which
 *   adds the new pairs over nfnetlink (a millisecond); the keeper's pass after it deletes what no agent has.
 *
 * Records are files the CNI plugin writes as root on this host; each value still goes through portOf before
 * it reaches nft, and a record that does not pass is left out (and its port, on a named network, quarantined).
 */
import { currentBootId, networkState, type AttachmentRecord } from '../contract/mod.ts';
import { messageOf } from '../errors/mod.ts';
import {
  guardElements,
  guardTable,
  portOf,
  VXLAN_TABLE,
  vxlanElements,
  vxlanKeys,
  vxlanTable,
  type FirewallKeeper,
  type GuardedPort,
  type VxlanSource,
} from '../firewall/mod.ts';
import { NfTables, type KernelEvent, type KernelOps } from '../kernel/mod.ts';
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
  /** The VXLAN table as last wanted, without its elements ('' while no VTEP runs here). */
  #vxlanBody = '';
  /** The VXLAN pairs the kernel holds, as far as this host knows (the last pass's, and those admitted since). */
  #admitted = new Set<string>();
  #soon: NodeJS.Timeout | undefined;
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
  }

  /** A link appeared, changed or went: ports may have come or gone. */
  onKernelEvent(e: KernelEvent): void {
    if (e.kind === 'link' || e.kind === 'overflow') this.soon();
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

  async #pass(): Promise<void> {
    try {
      const links = await this.#nl.listLinks();
      const bridges = new Set(this.#sources.networks().flatMap((n) => (n.exclusive ? [bridgeName(n.network)] : [])));
      const masters = new Set(links.filter((l) => bridges.has(l.name)).map((l) => l.index));
      this.#exclusivePorts = links.filter((l) => l.master !== undefined && masters.has(l.master)).map((l) => l.name);
    } catch (e) {
      this.#log.warn(`port guard: cannot list links: ${messageOf(e)}; its quarantine stays as it was`);
    }
    const t = vxlanTable(this.#sources.vxlan());
    const key = t ? t.body.join('\n') : '';
    // Until an agent has read its config the filter a previous run left stays: it is never opened at start.
    if (key !== this.#vxlanBody) {
      if (t) this.#firewall.want({ ...t, elements: () => this.#vxlanElements() });
      else this.#firewall.unwant({ family: 'inet', name: VXLAN_TABLE });
      this.#vxlanBody = key;
    }
    this.#firewall.sync();
  }

  /**
   * Before an agent programs new peers: their (VNI, address) pairs are added to the VXLAN filter at once, over
   * nfnetlink, so their first datagrams are accepted (a keeper pass, three nft processes, took long enough for
   * a returning peer's first replies to be dropped: test/chaos/leases.test.ts). Pairs that went are deleted
   * by the keeper's pass that follows. Without the table yet (or flushed), a full pass instead.
   */
  async admitPeers(): Promise<void> {
    const src = this.#sources.vxlan();
    const t = vxlanTable(src);
    if (!t || t.body.join('\n') !== this.#vxlanBody) return this.refresh();
    const e = vxlanElements(src);
    const fresh = new Set([...e.peers4, ...e.peers6].filter((x) => !this.#admitted.has(x)));
    if (fresh.size > 0) {
      const nf = NfTables.open();
      try {
        await nf.addElements('inet', VXLAN_TABLE, vxlanKeys(src, fresh));
        for (const x of fresh) this.#admitted.add(x);
      } catch {
        return this.refresh();
      } finally {
        nf.close();
      }
    }
    this.soon();
  }

  #vxlanElements(): ReturnType<typeof vxlanElements> {
    const e = vxlanElements(this.#sources.vxlan());
    this.#admitted = new Set([...e.peers4, ...e.peers6]);
    return e;
  }

  /** The guard's elements now: every record of this boot (read after the keeper listed the ruleset). */
  #elements(): ReturnType<typeof guardElements> {
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
    return guardElements(
      ports,
      this.#exclusivePorts.filter((n) => !known.has(n)),
    );
  }
}

/**
 * The MAC an attachment's port may send with: saved in the record since issue 25; for a record written before,
 * the named endpoint's, or the one the CNI result reported for the container's interface.
 */
function macOf(r: AttachmentRecord): string | undefined {
  return r.mac ?? (r.endpoint?.mac || undefined) ?? r.result?.interfaces?.find((i) => i.sandbox !== undefined)?.mac;
}
