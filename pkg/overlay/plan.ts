/**
 * What the kernel should hold for the peers of one network, as data. Per remote vxlan lease, flannel's
 * triple on the VXLAN device (pkg/backend/vxlan design notes: "1 route, 1 arp entry and 1 FDB entry per
 * host"):
 *
 *   neighbour  <subnet>.0 -> VtepMAC (permanent)       ip neigh replace 10.244.2.0 lladdr M dev flannel.1 nud permanent
 *   FDB        VtepMAC -> PublicIP (self, permanent)   bridge fdb replace M dev flannel.1 dst 192.0.2.2 self permanent
 *   route      <subnet> via <subnet>.0 onlink          ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
 *
 * or, with DirectRouting and a peer on the same underlay subnet, one plain route via its PublicIP. Leases of
 * other backend types, this host's own subnet, and leases advertising this host's own address are left out.
 */
import { containsIP, formatAddr, parseAddr, parsePrefix } from '../netaddr/cidr.ts';
import type { SubnetLease } from '../lease/lease.ts';
import { bitsOf } from '../netaddr/family.ts';

export interface PlannedRoute {
  readonly dst: string;
  readonly gateway: string;
  /** The VXLAN device; undefined for a direct route (the kernel picks the underlay device). */
  readonly oif: number | undefined;
  readonly onlink: boolean;
}

export interface OverlayDesired {
  /** neighbour IP -> MAC */
  readonly neighs: ReadonlyMap<string, string>;
  /** VTEP MAC -> remote PublicIP */
  readonly fdb: ReadonlyMap<string, string>;
  /** destination -> route */
  readonly routes: ReadonlyMap<string, PlannedRoute>;
}

export interface PlanInput {
  readonly ownSubnet: string;
  readonly ownPublicIP: string;
  readonly peers: Iterable<SubnetLease>;
  readonly vxlanIndex: number;
  readonly directRouting: boolean;
  /** Whether an address is on one of this host's underlay subnets (DirectRouting needs that). */
  readonly onLink: (ip: string) => boolean;
}

/** The subnet's network address: the peer VTEP's own address on the overlay. */
function vtepAddress(cidr: string): string {
  const p = parsePrefix(cidr);
  if (!p.ok) throw new RangeError(p.reason);
  return formatAddr(p.value.family, p.value.ip);
}

export function planPeers(input: PlanInput): OverlayDesired {
  const neighs = new Map<string, string>();
  const fdb = new Map<string, string>();
  const routes = new Map<string, PlannedRoute>();
  for (const peer of input.peers) {
    const vx = peer.attrs.vxlan;
    if (peer.attrs.backendType !== 'vxlan' || !vx) continue;
    if (peer.subnet === input.ownSubnet || peer.attrs.publicIP === input.ownPublicIP) continue;
    if (input.directRouting && input.onLink(peer.attrs.publicIP)) {
      routes.set(peer.subnet, { dst: peer.subnet, gateway: peer.attrs.publicIP, oif: undefined, onlink: false });
      continue;
    }
    const gw = vtepAddress(peer.subnet);
    neighs.set(gw, vx.vtepMac);
    fdb.set(vx.vtepMac, peer.attrs.publicIP);
    routes.set(peer.subnet, { dst: peer.subnet, gateway: gw, oif: input.vxlanIndex, onlink: true });
  }
  return { neighs, fdb, routes };
}

export interface PlanInput6 {
  readonly ownSubnet6: string | undefined;
  readonly ownPublicIPv6: string;
  readonly peers: Iterable<SubnetLease>;
  /** The IPv6 VTEP (`flannel-v6.<VNI>`). */
  readonly vxlanIndex: number;
  readonly directRouting: boolean;
  readonly onLink: (ip: string) => boolean;
}

/**
 * The IPv6 triple per dual-stack peer, on the IPv6 VTEP over an IPv6 underlay (issue 15; what
 * test/kernel/vxlan-ipv6.test.ts builds by hand): neighbour `<v6 subnet>::` -> the peer's IPv6 VtepMAC
 * (BackendV6Data), FDB that MAC -> its PublicIPv6, route `<v6 subnet> via <v6 subnet>:: onlink`. Peers
 * without an IPv6 part, PublicIPv6 or BackendV6Data are left out (an IPv4-only host in a dual-stack network).
 * DirectRouting as for IPv4: a peer whose PublicIPv6 is on one of this host's IPv6 underlay subnets gets one
 * plain route via that address.
 */
export function planPeers6(input: PlanInput6): OverlayDesired {
  const neighs = new Map<string, string>();
  const fdb = new Map<string, string>();
  const routes = new Map<string, PlannedRoute>();
  for (const peer of input.peers) {
    const vx = peer.attrs.vxlanV6;
    const subnet = peer.ipv6Subnet;
    const dst = peer.attrs.publicIPv6;
    if (peer.attrs.backendType !== 'vxlan' || !vx || !subnet || !dst) continue;
    if (subnet === input.ownSubnet6 || dst === input.ownPublicIPv6) continue;
    if (input.directRouting && input.onLink(dst)) {
      routes.set(subnet, { dst: subnet, gateway: dst, oif: undefined, onlink: false });
      continue;
    }
    const gw = vtepAddress(subnet);
    neighs.set(gw, vx.vtepMac);
    fdb.set(vx.vtepMac, dst);
    routes.set(subnet, { dst: subnet, gateway: gw, oif: input.vxlanIndex, onlink: true });
  }
  return { neighs, fdb, routes };
}

/**
 * A named network's IPv6 half inside its one VTEP (weft's choice, so IPv6 networks need no IPv6 underlay):
 * per peer with an IPv6 part, the neighbour `<v6 subnet>::` -> its VtepMAC (BackendData's), the route
 * `<v6 subnet> via <v6 subnet>:: onlink`, and the FDB entry VtepMAC -> PublicIP that the IPv4 plan also has
 * (except for a peer it reaches by DirectRouting, which IPv6 still reaches through the VTEP).
 */
export function planPeersInner6(input: Omit<PlanInput, 'directRouting' | 'onLink'> & { readonly ownSubnet6: string }): OverlayDesired {
  const neighs = new Map<string, string>();
  const fdb = new Map<string, string>();
  const routes = new Map<string, PlannedRoute>();
  for (const peer of input.peers) {
    const vx = peer.attrs.vxlan;
    const subnet = peer.ipv6Subnet;
    if (peer.attrs.backendType !== 'vxlan' || !vx || !subnet) continue;
    if (subnet === input.ownSubnet6 || peer.subnet === input.ownSubnet || peer.attrs.publicIP === input.ownPublicIP) continue;
    const gw = vtepAddress(subnet);
    neighs.set(gw, vx.vtepMac);
    fdb.set(vx.vtepMac, peer.attrs.publicIP);
    routes.set(subnet, { dst: subnet, gateway: gw, oif: input.vxlanIndex, onlink: true });
  }
  return { neighs, fdb, routes };
}

/** Two plans for one device (its IPv4 and IPv6 entries) as one. */
export function mergePlans(a: OverlayDesired, b: OverlayDesired): OverlayDesired {
  return {
    neighs: new Map([...a.neighs, ...b.neighs]),
    fdb: new Map([...a.fdb, ...b.fdb]),
    routes: new Map([...a.routes, ...b.routes]),
  };
}

/** A predicate telling whether an address lies in one of `prefixes` (the underlay's connected subnets, either family). */
export function onLinkOf(prefixes: readonly string[]): (ip: string) => boolean {
  const nets = prefixes.flatMap((c) => {
    const r = parsePrefix(c);
    return r.ok && r.value.prefix < bitsOf(r.value.family) ? [r.value] : [];
  });
  return (ip) => {
    const a = parseAddr(ip);
    return !!a && nets.some((n) => containsIP(n, a.family, a.ip));
  };
}
