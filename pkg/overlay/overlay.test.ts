import { describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { decodeLease, type SubnetLease } from '../lease/lease.ts';
import { diffOverlay, type OverlayObserved } from './diff.ts';
import { mergePlans, onLinkOf, planPeers, planPeers6, planPeersInner6 } from './plan.ts';

const P = '/coreos.com/network/subnets';
function peer(subnet: string, publicIP: string, mac: string, value?: string): SubnetLease {
  const d = decodeLease(P, {
    key: `${P}/${subnet.replace('/', '-')}`,
    value: value ?? encodeLeaseAttrs({ publicIP, vxlan: { vni: 1, vtepMac: mac } }),
    leaseId: '1',
    modRevision: '1',
  });
  if (!d.ok) throw new Error(d.reason);
  return d.lease;
}
const self = { ownSubnet: '10.244.1.0/24', ownPublicIP: '192.0.2.1', vxlanIndex: 5, directRouting: false, onLink: () => false };
const A = peer('10.244.2.0/24', '192.0.2.2', '02:00:00:00:00:02');
const B = peer('10.244.3.0/24', '198.51.100.3', '02:00:00:00:00:03');
const empty: OverlayObserved = { neighs: [], fdb: [], routes: [] };

describe('planPeers()', () => {
  it("plans flannel's neighbour, FDB entry and onlink route for each remote vxlan lease", () => {
    const d = planPeers({ ...self, peers: [A, B] });
    expect([...d.neighs]).toEqual([
      ['10.244.2.0', '02:00:00:00:00:02'],
      ['10.244.3.0', '02:00:00:00:00:03'],
    ]);
    expect([...d.fdb]).toEqual([
      ['02:00:00:00:00:02', '192.0.2.2'],
      ['02:00:00:00:00:03', '198.51.100.3'],
    ]);
    expect(d.routes.get('10.244.2.0/24')).toEqual({ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: 5, onlink: true });
  });

  it('leaves out its own subnet, leases with its own address and non-vxlan leases', () => {
    const mine = peer('10.244.1.0/24', '192.0.2.1', '02:00:00:00:00:01');
    const stale = peer('10.244.8.0/24', '192.0.2.1', '02:00:00:00:00:08');
    const hostgw = peer('10.244.9.0/24', '192.0.2.9', '', '{"PublicIP":"192.0.2.9","BackendType":"host-gw"}');
    expect(planPeers({ ...self, peers: [mine, stale, hostgw, A] }).routes.size).toBe(1);
  });

  it('with DirectRouting, routes on-link peers via their address and encapsulates the rest', () => {
    const d = planPeers({ ...self, directRouting: true, onLink: onLinkOf(['192.0.2.1/24']), peers: [A, B] });
    expect(d.routes.get('10.244.2.0/24')).toEqual({ dst: '10.244.2.0/24', gateway: '192.0.2.2', oif: undefined, onlink: false });
    expect(d.neighs.has('10.244.2.0')).toBe(false);
    expect(d.routes.get('10.244.3.0/24')?.oif).toBe(5);
  });
});

describe('diffOverlay()', () => {
  it('adds neighbour and FDB before the route, and nothing when the kernel already matches', () => {
    const want = planPeers({ ...self, peers: [A] });
    const ops = diffOverlay(want, empty);
    expect(ops.map((o) => o.op)).toEqual(['neigh-set', 'fdb-set', 'route-set']);
    const have: OverlayObserved = {
      neighs: [{ ip: '10.244.2.0', mac: '02:00:00:00:00:02' }],
      fdb: [{ mac: '02:00:00:00:00:02', dst: '192.0.2.2' }],
      routes: [{ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: 5, onlink: true }],
    };
    expect(diffOverlay(want, have)).toEqual([]);
  });

  it('replaces the entries of a peer whose VTEP MAC changed and removes the stale FDB entry flannel leaks', () => {
    const want = planPeers({ ...self, peers: [peer('10.244.2.0/24', '192.0.2.2', '02:00:00:00:00:22')] });
    const have: OverlayObserved = {
      neighs: [{ ip: '10.244.2.0', mac: '02:00:00:00:00:02' }],
      fdb: [{ mac: '02:00:00:00:00:02', dst: '192.0.2.2' }],
      routes: [{ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: 5, onlink: true }],
    };
    expect(diffOverlay(want, have)).toEqual([
      { op: 'fdb-del', mac: '02:00:00:00:00:02', dst: '192.0.2.2' },
      { op: 'neigh-set', ip: '10.244.2.0', mac: '02:00:00:00:00:22' },
      { op: 'fdb-set', mac: '02:00:00:00:00:22', dst: '192.0.2.2' },
    ]);
  });

  it('removes everything no lease backs, routes first', () => {
    const have: OverlayObserved = {
      neighs: [{ ip: '10.244.7.0', mac: '02:00:00:00:00:07' }],
      fdb: [{ mac: '02:00:00:00:00:07', dst: '192.0.2.7' }],
      routes: [{ dst: '10.244.7.0/24', gateway: '10.244.7.0', oif: 5, onlink: true }],
    };
    expect(diffOverlay(planPeers({ ...self, peers: [] }), have).map((o) => o.op)).toEqual(['route-del', 'fdb-del', 'neigh-del']);
  });

  it('replaces a route whose next hop moved (a host changed its address, or DirectRouting turned on)', () => {
    const want = planPeers({ ...self, directRouting: true, onLink: () => true, peers: [A] });
    const have: OverlayObserved = { neighs: [], fdb: [], routes: [{ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: 5, onlink: true }] };
    expect(diffOverlay(want, have)).toEqual([
      { op: 'route-set', route: { dst: '10.244.2.0/24', gateway: '192.0.2.2', oif: undefined, onlink: false } },
    ]);
    // A direct route the kernel reports with its underlay device matches a plan that left the device open.
    expect(diffOverlay(want, { ...have, routes: [{ dst: '10.244.2.0/24', gateway: '192.0.2.2', oif: 2, onlink: false }] })).toEqual([]);
  });
});

describe('planPeers6()', () => {
  const dual = (key: string, publicIP: string, publicIPv6: string | undefined, mac6: string | undefined) => {
    const d = decodeLease(P, {
      key: `${P}/${key}`,
      value: encodeLeaseAttrs({
        publicIP,
        ...(publicIPv6 && { publicIPv6 }),
        vxlan: { vni: 1, vtepMac: '02:00:00:00:04:04' },
        ...(mac6 && { vxlanV6: { vni: 1, vtepMac: mac6 } }),
      }),
      leaseId: '7',
      modRevision: '1',
    });
    if (!d.ok) throw new Error(d.reason);
    return d.lease;
  };

  it("plans flannel's IPv6 triple per dual-stack peer on the IPv6 VTEP, skipping itself and IPv4-only peers", () => {
    const peers = [
      dual('10.244.1.0-24&fc00:0:0:1::-64', '192.0.2.1', '2001:db8::1', '02:00:00:00:06:01'),
      dual('10.244.2.0-24&fc00:0:0:2::-64', '192.0.2.2', '2001:db8::2', '02:00:00:00:06:02'),
      dual('10.244.3.0-24', '192.0.2.3', undefined, undefined),
    ];
    const self = { ownSubnet6: 'fc00:0:0:1::/64', ownPublicIPv6: '2001:db8::1', peers, vxlanIndex: 9 };
    const d = planPeers6({ ...self, directRouting: false, onLink: () => true });
    expect([...d.neighs]).toEqual([['fc00:0:0:2::', '02:00:00:00:06:02']]);
    expect([...d.fdb]).toEqual([['02:00:00:00:06:02', '2001:db8::2']]);
    expect([...d.routes.values()]).toEqual([{ dst: 'fc00:0:0:2::/64', gateway: 'fc00:0:0:2::', oif: 9, onlink: true }]);
    // DirectRouting: a peer on this host's IPv6 underlay subnet is reached by a plain route via its address.
    const direct = planPeers6({ ...self, directRouting: true, onLink: onLinkOf(['192.0.2.0/24', '2001:db8::/64']) });
    expect([...direct.routes.values()]).toEqual([{ dst: 'fc00:0:0:2::/64', gateway: '2001:db8::2', oif: undefined, onlink: false }]);
    expect(direct.fdb.size + direct.neighs.size).toBe(0);
    expect(onLinkOf(['2001:db8::/64'])('2001:db8:1::2')).toBe(false);
    expect(onLinkOf(['192.0.2.0/24'])('192.0.2.9')).toBe(true);
  });

  it("plans a named network's IPv6 half inside its one VTEP: BackendData's MAC, the IPv4 FDB entry, an onlink route", () => {
    const peers = [
      dual('10.70.0.32-27&fd00:70:0:0:1::-80', '192.0.2.1', undefined, undefined),
      dual('10.70.0.64-27&fd00:70:0:0:2::-80', '192.0.2.2', undefined, undefined),
      dual('10.70.0.96-27', '192.0.2.3', undefined, undefined),
    ];
    const self = { ownSubnet: '10.70.0.32/27', ownSubnet6: 'fd00:70:0:0:1::/80', ownPublicIP: '192.0.2.1', peers, vxlanIndex: 4 };
    const inner = planPeersInner6(self);
    expect([...inner.neighs]).toEqual([['fd00:70:0:0:2::', '02:00:00:00:04:04']]);
    expect([...inner.fdb]).toEqual([['02:00:00:00:04:04', '192.0.2.2']]);
    expect([...inner.routes.values()]).toEqual([{ dst: 'fd00:70:0:0:2::/80', gateway: 'fd00:70:0:0:2::', oif: 4, onlink: true }]);
    const both = mergePlans(planPeers({ ...self, directRouting: false, onLink: () => false }), inner);
    expect([...both.routes.keys()].sort()).toEqual(['10.70.0.64/27', '10.70.0.96/27', 'fd00:70:0:0:2::/80']);
    expect(both.fdb.size).toBe(1);
  });
});
