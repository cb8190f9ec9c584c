/**
 * What weft last told the kernel to hold on a device (its intent), and the two questions it answers without
 * dumping the kernel (issue 28). With 5,000 peers a dump of the neighbour, FDB and route tables costs
 * 150-200 ms of CPU, while a lease change touches three entries; so a lease change is diffed against the
 * intent, and the kernel is dumped only when its own notifications say something changed behind weft's back
 * (or one was lost). Pure.
 *
 *   diffIntent     the operations that turn the intent into the new plan: only the changed peers' entries;
 *   eventDrifts    whether a kernel notification means the kernel no longer holds the intent (a repair is
 *                  due), is the echo of weft's own write or about an entry weft does not keep, or is not about
 *                  peer entries at all (the caller's other rules decide).
 */
import type { KernelEvent } from '../kernel/mod.ts';
import type { OverlayObserved, OverlayOp } from './diff.ts';
import type { OverlayDesired } from './plan.ts';

/** One device's intent: its index and the peer entries last planned for it. */
export interface DeviceIntent {
  readonly index: number;
  readonly want: OverlayDesired;
}

const ZERO_MAC = '00:00:00:00:00:00';

/** The kernel as weft last left it, in the shape the differ compares. */
export function observedOf(last: OverlayDesired): OverlayObserved {
  return {
    neighs: [...last.neighs].map(([ip, mac]) => ({ ip, mac })),
    fdb: [...last.fdb].map(([mac, dst]) => ({ mac, dst })),
    routes: [...last.routes.values()].map((r) => ({ dst: r.dst, gateway: r.gateway, oif: r.oif, onlink: r.onlink })),
  };
}

/**
 * The operations from the intent `last` to the plan `want`: what diffOverlay(want, observedOf(last)) gives,
 * in its safe order, but compared map to map (no copies, no string keys), since it runs on every lease change.
 */
export function diffIntent(want: OverlayDesired, last: OverlayDesired): OverlayOp[] {
  const ops: OverlayOp[] = [];
  for (const r of last.routes.values())
    if (!want.routes.has(r.dst)) ops.push({ op: 'route-del', route: { dst: r.dst, gateway: r.gateway, oif: r.oif, onlink: r.onlink } });
  for (const [mac, dst] of last.fdb) if (want.fdb.get(mac) !== dst) ops.push({ op: 'fdb-del', mac, dst });
  for (const ip of last.neighs.keys()) if (!want.neighs.has(ip)) ops.push({ op: 'neigh-del', ip });
  for (const [ip, mac] of want.neighs) if (last.neighs.get(ip) !== mac) ops.push({ op: 'neigh-set', ip, mac });
  for (const [mac, dst] of want.fdb) if (last.fdb.get(mac) !== dst) ops.push({ op: 'fdb-set', mac, dst });
  for (const r of want.routes.values()) {
    const cur = last.routes.get(r.dst);
    if (!cur || cur.gateway !== r.gateway || cur.onlink !== r.onlink || (r.oif !== undefined && cur.oif !== r.oif))
      ops.push({ op: 'route-set', route: r });
  }
  return ops;
}

/**
 * true: the kernel now differs from the intent (an entry weft keeps was deleted or changed, or a stray one
 * appeared in its place); false: the notification is what the intent already says (the echo of weft's own
 * write), or about an entry weft does not keep (a learned neighbour, a removed stray); undefined: not about a
 * device's peer entries (links, addresses, a route weft plans no entry for). A notification that does not
 * carry the entry (an older decoder, a test) counts as drift: when unsure, look at the kernel.
 */
export function eventDrifts(intents: readonly DeviceIntent[], e: KernelEvent): boolean | undefined {
  switch (e.kind) {
    case 'neigh': {
      const want = intents.find((i) => i.index === e.index)?.want;
      if (!want) return undefined;
      if (e.ip === undefined || e.permanent === undefined) return true;
      const mac = want.neighs.get(e.ip);
      if (e.op === 'del') return mac !== undefined;
      if (mac === undefined) return e.permanent; // a permanent stray is the overlay's to remove; a learned one is not
      return !(e.permanent && e.mac === mac);
    }
    case 'fdb': {
      const want = intents.find((i) => i.index === e.index)?.want;
      if (!want) return undefined;
      if (e.mac === undefined || e.self === undefined) return true;
      if (!e.self || e.mac === ZERO_MAC) return false;
      const kept = want.fdb.get(e.mac) === e.dst;
      return e.op === 'del' ? kept : !kept;
    }
    case 'route': {
      const r = intents.map((i) => i.want.routes.get(e.dst)).find((x) => x !== undefined);
      if (!r) return e.op === 'del' ? false : undefined;
      if (e.op === 'del') return true;
      if (e.gateway === undefined && e.onlink === undefined) return true;
      return !(e.gateway === r.gateway && e.onlink === r.onlink && (r.oif === undefined || e.oif === r.oif));
    }
    default:
      return undefined;
  }
}
