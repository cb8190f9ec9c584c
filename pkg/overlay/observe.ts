/**
 * What the kernel holds in the overlay's domain, in the shapes the differ compares: permanent neighbours and
 * `self` FDB entries on the VXLAN device (the all-zero default entry is not the overlay's), and the routes of
 * peer subnets: main table, not made by the kernel, a destination of the host-subnet size inside the cluster
 * network, and not this host's own subnet. Such routes belong to the overlay whichever tool made them (a
 * flanneld that ran before, an operator), so entries no lease backs are removed. The family is the cluster
 * network's: an IPv6 network's VTEP (`flannel-v6.<VNI>`) is observed with IPv6 neighbours and routes.
 */
import { containsPrefix, parsePrefix } from '../netaddr/cidr.ts';
import { RTPROT, type KernelOps } from '../kernel/mod.ts';
import type { OverlayObserved } from './diff.ts';

export interface OverlayScope {
  readonly vxlanIndex: number;
  readonly clusterNetwork: string;
  readonly subnetLen: number;
  readonly ownSubnet: string;
}

const ZERO_MAC = '00:00:00:00:00:00';
const RTN_UNICAST = 1;

export async function observeOverlay(nl: KernelOps, scope: OverlayScope): Promise<OverlayObserved> {
  const cluster = parsePrefix(scope.clusterNetwork);
  if (!cluster.ok) throw new RangeError(cluster.reason);
  const family = cluster.value.family;
  const [neighs, fdb, routes] = await Promise.all([
    nl.listNeighs({ index: scope.vxlanIndex, family }),
    nl.listFdb({ index: scope.vxlanIndex }),
    nl.listRoutes({ family }),
  ]);
  const inDomain = (dst: string) => {
    const p = parsePrefix(dst);
    return p.ok && p.value.prefix === scope.subnetLen && containsPrefix(cluster.value, p.value) && dst !== scope.ownSubnet;
  };
  return {
    neighs: neighs.filter((n) => n.permanent).map((n) => ({ ip: n.ip, mac: n.mac })),
    fdb: fdb.filter((f) => f.self && f.mac !== ZERO_MAC).map((f) => ({ mac: f.mac, dst: f.dst })),
    routes: routes
      .filter((r) => r.protocol !== RTPROT.KERNEL && r.type === RTN_UNICAST && inDomain(r.dst))
      .map((r) => ({ dst: r.dst, gateway: r.gateway, oif: r.oif, onlink: r.onlink })),
  };
}

/**
 * A VTEP's entries in each range it carries (a dual-stack named network's VTEP holds both families), each
 * with this host's own subnet of it; the FDB is the device's, listed once.
 */
export async function observeOverlayScopes(
  nl: KernelOps,
  vxlanIndex: number,
  scopes: ReadonlyArray<Omit<OverlayScope, 'vxlanIndex'>>,
): Promise<OverlayObserved> {
  const seen = await Promise.all(scopes.map((x) => observeOverlay(nl, { ...x, vxlanIndex })));
  return { neighs: seen.flatMap((o) => o.neighs), fdb: seen[0]?.fdb ?? [], routes: seen.flatMap((o) => o.routes) };
}
