/**
 * Carries out overlay operations, one netlink request each, and nothing else: no decisions. Every operation
 * is tried; one failing (a peer's entry the kernel refuses) is reported and does not stop the others. A
 * removal of something already gone counts as done.
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

export async function applyOverlay(nl: KernelOps, vxlanIndex: number, ops: readonly OverlayOp[]): Promise<ApplyReport> {
  let applied = 0;
  const failed: Array<{ op: OverlayOp; error: unknown }> = [];
  for (const op of ops) {
    try {
      await applyOne(nl, vxlanIndex, op);
      applied++;
    } catch (error) {
      if (op.op.endsWith('-del') && isGone(error)) applied++;
      else failed.push({ op, error });
    }
  }
  return { applied, failed };
}
