/**
 * The operations that turn what the kernel holds into what the leases say, in a safe order: removals
 * first (routes before the FDB and neighbour entries they depend on), then additions (neighbour and FDB
 * before the route, because the kernel would otherwise ARP for the route's gateway). Pure.
 */
import type { OverlayDesired, PlannedRoute } from './plan.ts';

export interface ObservedRoute {
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly oif: number | undefined;
  readonly onlink: boolean;
}

export interface OverlayObserved {
  readonly neighs: ReadonlyArray<{ readonly ip: string; readonly mac: string | undefined }>;
  readonly fdb: ReadonlyArray<{ readonly mac: string; readonly dst: string | undefined }>;
  /** Routes in the overlay's domain (see observe.ts), and only those. */
  readonly routes: readonly ObservedRoute[];
}

export type OverlayOp =
  | { readonly op: 'route-del'; readonly route: ObservedRoute }
  | { readonly op: 'fdb-del'; readonly mac: string; readonly dst: string | undefined }
  | { readonly op: 'neigh-del'; readonly ip: string }
  | { readonly op: 'neigh-set'; readonly ip: string; readonly mac: string }
  | { readonly op: 'fdb-set'; readonly mac: string; readonly dst: string }
  | { readonly op: 'route-set'; readonly route: PlannedRoute };

function sameRoute(want: PlannedRoute, have: ObservedRoute): boolean {
  return have.gateway === want.gateway && have.onlink === want.onlink && (want.oif === undefined || have.oif === want.oif);
}

export function diffOverlay(want: OverlayDesired, have: OverlayObserved): OverlayOp[] {
  const dels: OverlayOp[] = [];
  const sets: OverlayOp[] = [];

  const routeDels = have.routes.filter((r) => !want.routes.has(r.dst)).map((route): OverlayOp => ({ op: 'route-del', route }));
  // An FDB entry is kept only if it is exactly the one wanted; a MAC may have several (one per dst).
  const fdbDels = have.fdb.filter((f) => want.fdb.get(f.mac) !== f.dst).map((f): OverlayOp => ({ op: 'fdb-del', mac: f.mac, dst: f.dst }));
  const neighDels = have.neighs.filter((n) => !want.neighs.has(n.ip)).map((n): OverlayOp => ({ op: 'neigh-del', ip: n.ip }));
  dels.push(...routeDels, ...fdbDels, ...neighDels);

  // Indexed, not searched: with thousands of peers a scan per wanted entry would be quadratic.
  const haveNeigh = new Map(have.neighs.map((n) => [n.ip, n.mac]));
  const haveFdb = new Set(have.fdb.map((f) => `${f.mac} ${f.dst}`));
  const haveRoute = new Map(have.routes.map((r) => [r.dst, r]));
  for (const [ip, mac] of want.neighs) if (haveNeigh.get(ip) !== mac) sets.push({ op: 'neigh-set', ip, mac });
  for (const [mac, dst] of want.fdb) if (!haveFdb.has(`${mac} ${dst}`)) sets.push({ op: 'fdb-set', mac, dst });
  for (const route of want.routes.values()) {
    const cur = haveRoute.get(route.dst);
    if (!cur || !sameRoute(route, cur)) sets.push({ op: 'route-set', route });
  }
  return [...dels, ...sets];
}

export function describeOp(o: OverlayOp): string {
  switch (o.op) {
    case 'route-del':
      return `delete route ${o.route.dst}${o.route.gateway ? ` via ${o.route.gateway}` : ''}`;
    case 'route-set':
      return `set route ${o.route.dst} via ${o.route.gateway}${o.route.onlink ? ' onlink' : ''}`;
    case 'fdb-del':
      return `delete fdb ${o.mac}${o.dst ? ` dst ${o.dst}` : ''}`;
    case 'fdb-set':
      return `set fdb ${o.mac} dst ${o.dst}`;
    case 'neigh-del':
      return `delete neighbour ${o.ip}`;
    case 'neigh-set':
      return `set neighbour ${o.ip} lladdr ${o.mac}`;
  }
}
