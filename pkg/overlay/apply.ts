/**
 * Carries out overlay operations, one netlink request each, and nothing else: no decisions. Every operation
 * is tried; one failing (a peer's entry the kernel refuses) is reported and does not stop the others. A
 * removal of something already gone counts as done.
 *
 * Requests are pipelined, up to WINDOW in flight (issue 28): a burst of 15,000 entries no longer waits one
 * round trip each. Order still holds, because each request is sent when its operation starts, in the diff's
 * order, and the kernel carries out a socket's requests in the order they arrive (a neighbour is there before
 * the route whose gateway it resolves).
 */
import { isGone, type KernelOps } from '../kernel/mod.ts';
import type { OverlayOp } from './diff.ts';

export interface ApplyReport {
  readonly applied: number;
  readonly failed: ReadonlyArray<{ readonly op: OverlayOp; readonly error: unknown }>;
}

async function applyOne(nl: KernelOps, index: number, o: OverlayOp): Promise<void> {
  switch (o.op) {
    case 'neigh-set':
      return nl.setNeigh({ index, ip: o.ip, mac: o.mac });
    case 'neigh-del':
      return nl.deleteNeigh({ index, ip: o.ip });
    case 'fdb-set':
      return nl.replaceFdb({ index, mac: o.mac, dst: o.dst });
    case 'fdb-del':
      return nl.deleteFdb({ index, mac: o.mac, ...(o.dst !== undefined && { dst: o.dst }) });
    case 'route-set':
      return nl.replaceRoute({
        dst: o.route.dst,
        gateway: o.route.gateway,
        onlink: o.route.onlink,
        ...(o.route.oif !== undefined && { oif: o.route.oif }),
      });
    case 'route-del':
      return nl.deleteRoute({
        dst: o.route.dst,
        ...(o.route.gateway !== undefined && { gateway: o.route.gateway }),
        ...(o.route.oif !== undefined && { oif: o.route.oif }),
      });
  }
}

/** Enough to hide the round trip; few enough that the ACKs never crowd the socket's receive buffer. */
const WINDOW = 64;

export async function applyOverlay(nl: KernelOps, vxlanIndex: number, ops: readonly OverlayOp[]): Promise<ApplyReport> {
  let applied = 0;
  const failed: Array<{ op: OverlayOp; error: unknown }> = [];
  const one = async (op: OverlayOp): Promise<void> => {
    try {
      await applyOne(nl, vxlanIndex, op);
      applied++;
    } catch (error) {
      if (op.op.endsWith('-del') && isGone(error)) applied++;
      else failed.push({ op, error });
    }
  };
  const inFlight = new Set<Promise<void>>();
  for (const op of ops) {
    const p: Promise<void> = one(op).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { applied, failed };
}
