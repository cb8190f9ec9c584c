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
import { ipv6Half, keyConfig, type Families } from './families.ts';
import type { Family, PerFamily } from '../netaddr/family.ts';

export type DeviceScope = Omit<OverlayScope, 'vxlanIndex'>;

const scopeOf = (range: FamilyConfig, ownSubnet: string): DeviceScope => ({
  clusterNetwork: range.network,
  subnetLen: range.subnetLen,
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
  /** The ifindex of each VTEP by the family it is addressed in: the key family's, and `flannel-v6.<VNI>` (6) for `device`. */
  readonly vteps: PerFamily<number>;
}

/** The peers' leases by the network's key family (an IPv6-only network's by their IPv6 half). */
export function peersOfFamily(peers: Iterable<SubnetLease>, family: Family): SubnetLease[] {
  return [...peers].flatMap((l) => leaseOfFamily(l, family) ?? []);
}

export function peerPlans(p: PeerPlanInput): DevicePlan[] {
  const { f, held, iface } = p;
  const all = [...p.peers];
  const onLink = onLinkOf(iface.prefixes);
  const vtepIndex = p.vteps[f.keyFamily]!;
  const main = planPeers({
    ownSubnet: held.subnet,
    ownPublicIP: iface.publicIP,
    peers: peersOfFamily(all, f.keyFamily),
    vxlanIndex: vtepIndex,
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
      vxlanIndex: vtepIndex,
    });
    plans.push({
      index: vtepIndex,
      want: mergePlans(main, inner),
      scopes: [scopeOf(keyConfig(f), held.subnet), scopeOf(ipv6Half(f)!, held.subnet6)],
    });
  } else plans.push({ index: vtepIndex, want: main, scopes: [scopeOf(keyConfig(f), held.subnet)] });
  const vtep6Index = f.six === 'device' ? p.vteps[6] : undefined;
  if (held.subnet6 && vtep6Index !== undefined && iface.publicIPv6) {
    const want = planPeers6({
      ownSubnet6: held.subnet6,
      ownPublicIPv6: iface.publicIPv6,
      peers: all,
      vxlanIndex: vtep6Index,
      directRouting: f.vx.directRouting,
      onLink,
    });
    plans.push({ index: vtep6Index, want, scopes: [scopeOf(ipv6Half(f)!, held.subnet6)] });
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
