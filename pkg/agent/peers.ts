/**
 * Every peer's entries as wanted on this host's VTEPs, pure, and one pass that makes the kernel hold them.
 * One plan per device: the network's VTEP carries its key family's entries (and a named network's IPv6 half,
 * `inner`); flannel's `flannel-v6.<VNI>` carries a dual-stack default network's IPv6 half (`device`).
 */
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { messageOf } from '../errors/mod.ts';
import type { KernelOps } from '../kernel/mod.ts';
import { leaseOfFamily, type HeldLease, type SubnetLease } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import {
  applyOverlay,
  describeOp,
  diffIntent,
  diffOverlay,
  mergePlans,
  observeOverlayScopes,
  onLinkOf,
  planPeers,
  planPeers6,
  planPeersInner6,
  type DeviceIntent,
  type OverlayDesired,
  type OverlayOp,
  type OverlayScope,
} from '../overlay/mod.ts';
import type { Families } from './families.ts';
import type { Family } from '../netaddr/family.ts';

export type DeviceScope = Omit<OverlayScope, 'vxlanIndex'>;

const scopeOf = (fam: FamilyConfig, ownSubnet: string): DeviceScope => ({
  clusterNetwork: fam.network,
  subnetLen: fam.subnetLen,
  ownSubnet,
});

export interface DevicePlan {
  readonly index: number;
  readonly want: OverlayDesired;
  /** The ranges whose entries the device holds, each with this host's own subnet of it (left alone). */
  readonly scopes: readonly DeviceScope[];
}

export interface PeerPlanInput {
  readonly f: Families;
  readonly held: HeldLease;
  readonly peers: Iterable<SubnetLease>;
  readonly iface: { readonly publicIP: string; readonly publicIPv6?: string | undefined; readonly prefixes: readonly string[] };
  readonly vtepIndex: number;
  /** `flannel-v6.<VNI>`, for `device`. */
  readonly vtep6Index: number | undefined;
}

/** The peers' leases by the network's key family (an IPv6-only network's by their IPv6 half). */
export function peersOfFamily(peers: Iterable<SubnetLease>, family: Family): SubnetLease[] {
  return [...peers].flatMap((l) => leaseOfFamily(l, family) ?? []);
}

export function peerPlans(p: PeerPlanInput): DevicePlan[] {
  const { f, held, iface } = p;
  const all = [...p.peers];
  const onLink = onLinkOf(iface.prefixes);
  const main = planPeers({
    ownSubnet: held.subnet,
    ownPublicIP: iface.publicIP,
    peers: peersOfFamily(all, f.family),
    vxlanIndex: p.vtepIndex,
    directRouting: f.vx.directRouting,
    onLink,
  });
  const plans: DevicePlan[] = [];
  if (f.six === 'inner' && held.subnet6) {
    const inner = planPeersInner6({
      ownSubnet: held.subnet,
      ownSubnet6: held.subnet6,
      ownPublicIP: iface.publicIP,
      peers: all,
      vxlanIndex: p.vtepIndex,
    });
    plans.push({
      index: p.vtepIndex,
      want: mergePlans(main, inner),
      scopes: [scopeOf(f.fam, held.subnet), scopeOf(f.fam6!, held.subnet6)],
    });
  } else plans.push({ index: p.vtepIndex, want: main, scopes: [scopeOf(f.fam, held.subnet)] });
  if (f.six === 'device' && held.subnet6 && p.vtep6Index !== undefined && iface.publicIPv6) {
    const want = planPeers6({
      ownSubnet6: held.subnet6,
      ownPublicIPv6: iface.publicIPv6,
      peers: all,
      vxlanIndex: p.vtep6Index,
      directRouting: f.vx.directRouting,
      onLink,
    });
    plans.push({ index: p.vtep6Index, want, scopes: [scopeOf(f.fam6!, held.subnet6)] });
  }
  return plans;
}

export interface PeersPass {
  readonly ops: OverlayOp[];
  readonly applied: number;
  readonly failed: number;
}

/**
 * Applies what differs between each device's plan and what it holds; each failure is logged, none stops the
 * rest. What a device holds is observed from the kernel, or, given `intent` (what weft last told the kernel
 * and the kernel has not contradicted since), taken from it: then a lease change costs its own entries only.
 */
export async function keepPeers(
  nl: KernelOps,
  log: Logger,
  plans: readonly DevicePlan[],
  intent?: readonly DeviceIntent[],
): Promise<PeersPass> {
  const ops: OverlayOp[] = [];
  let applied = 0;
  let failed = 0;
  for (const plan of plans) {
    const last = intent?.find((i) => i.index === plan.index)?.want;
    const mine = last ? diffIntent(plan.want, last) : diffOverlay(plan.want, await observeOverlayScopes(nl, plan.index, plan.scopes));
    const r = await applyOverlay(nl, plan.index, mine);
    for (const x of r.failed) log.warn(`could not ${describeOp(x.op)}: ${messageOf(x.error)}`);
    ops.push(...mine);
    applied += r.applied;
    failed += r.failed.length;
  }
  return { ops, applied, failed };
}
