import { describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { decodeLease, type SubnetLease } from '../lease/lease.ts';
import { diffOverlay } from './diff.ts';
import { diffIntent, eventDrifts, observedOf, type DeviceIntent } from './intent.ts';
import { planPeers } from './plan.ts';

const P = '/coreos.com/network/subnets';
function peer(subnet: string, publicIP: string, mac: string): SubnetLease {
  const d = decodeLease(P, {
    key: `${P}/${subnet.replace('/', '-')}`,
    value: encodeLeaseAttrs({ publicIP, vxlan: { vni: 1, vtepMac: mac } }),
    leaseId: '1',
    modRevision: '1',
  });
  if (!d.ok) throw new Error(d.reason);
  return d.lease;
}
const self = { ownSubnet: '10.244.1.0/24', ownPublicIP: '192.0.2.1', vxlanIndex: 5, directRouting: false, onLink: () => false };
const many = Array.from({ length: 5000 }, (_, i) =>
  peer(
    `10.${100 + (i >> 8)}.${i & 255}.0/24`,
    `198.${18 + (i >> 8)}.${i & 255}.1`,
    `02:00:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  ),
);
const A = peer('10.244.2.0/24', '192.0.2.2', '02:00:00:00:00:02');
const A2 = peer('10.244.2.0/24', '192.0.2.22', '02:00:00:00:00:22');

describe('diffIntent()', () => {
  it("writes only the changed peer's three entries, whatever the number of others", () => {
    const last = planPeers({ ...self, peers: many });
    expect(diffIntent(planPeers({ ...self, peers: [...many, A] }), last).map((o) => o.op)).toEqual(['neigh-set', 'fdb-set', 'route-set']);
    expect(diffIntent(last, last)).toEqual([]);
  });

  it('removes a gone peer route first, and replaces a changed one (new MAC and host) in the safe order', () => {
    const withA = planPeers({ ...self, peers: [...many, A] });
    expect(diffIntent(planPeers({ ...self, peers: many }), withA).map((o) => o.op)).toEqual(['route-del', 'fdb-del', 'neigh-del']);
    expect(diffIntent(planPeers({ ...self, peers: [...many, A2] }), withA)).toEqual([
      { op: 'fdb-del', mac: '02:00:00:00:00:02', dst: '192.0.2.2' },
      { op: 'neigh-set', ip: '10.244.2.0', mac: '02:00:00:00:00:22' },
      { op: 'fdb-set', mac: '02:00:00:00:00:22', dst: '192.0.2.22' },
    ]);
  });

  it('gives what diffing against the kernel as the intent left it gives', () => {
    const B = peer('10.244.3.0/24', '192.0.2.3', '02:00:00:00:00:03');
    const direct = planPeers({ ...self, directRouting: true, onLink: (ip) => ip === '192.0.2.3', peers: [A2, B] });
    for (const [want, last] of [
      [planPeers({ ...self, peers: [A, B] }), planPeers({ ...self, peers: [A2] })],
      [direct, planPeers({ ...self, peers: [A, B] })],
      [planPeers({ ...self, peers: [] }), direct],
    ] as const)
      expect(diffIntent(want, last)).toEqual(diffOverlay(want, observedOf(last)));
  });
});

describe('eventDrifts()', () => {
  const intents: DeviceIntent[] = [{ index: 5, want: planPeers({ ...self, peers: [A] }) }];
  const drifts = (e: Parameters<typeof eventDrifts>[1]) => eventDrifts(intents, e);

  it("reads the echo of weft's own writes as no change", () => {
    expect(drifts({ kind: 'neigh', op: 'new', index: 5, ip: '10.244.2.0', mac: '02:00:00:00:00:02', permanent: true })).toBe(false);
    expect(drifts({ kind: 'fdb', op: 'new', index: 5, mac: '02:00:00:00:00:02', dst: '192.0.2.2', self: true })).toBe(false);
    expect(drifts({ kind: 'route', op: 'new', dst: '10.244.2.0/24', oif: 5, gateway: '10.244.2.0', onlink: true })).toBe(false);
    // Removals weft made of entries it no longer wants.
    expect(drifts({ kind: 'route', op: 'del', dst: '10.244.9.0/24', oif: 5, gateway: '10.244.9.0', onlink: true })).toBe(false);
    expect(drifts({ kind: 'fdb', op: 'del', index: 5, mac: '02:00:00:00:00:09', dst: '192.0.2.9', self: true })).toBe(false);
  });

  it('reads a deleted or changed entry it keeps, or a stray permanent one, as drift', () => {
    expect(drifts({ kind: 'neigh', op: 'del', index: 5, ip: '10.244.2.0', mac: '02:00:00:00:00:02', permanent: true })).toBe(true);
    expect(drifts({ kind: 'neigh', op: 'new', index: 5, ip: '10.244.2.0', mac: '02:00:00:00:00:99', permanent: true })).toBe(true);
    expect(drifts({ kind: 'neigh', op: 'new', index: 5, ip: '10.244.2.0', mac: '02:00:00:00:00:02', permanent: false })).toBe(true);
    expect(drifts({ kind: 'neigh', op: 'new', index: 5, ip: '10.244.7.0', mac: '02:00:00:00:00:07', permanent: true })).toBe(true);
    expect(drifts({ kind: 'fdb', op: 'del', index: 5, mac: '02:00:00:00:00:02', dst: '192.0.2.2', self: true })).toBe(true);
    expect(drifts({ kind: 'fdb', op: 'new', index: 5, mac: '02:00:00:00:00:02', dst: '192.0.2.77', self: true })).toBe(true);
    expect(drifts({ kind: 'route', op: 'del', dst: '10.244.2.0/24', oif: 5, gateway: '10.244.2.0', onlink: true })).toBe(true);
    expect(drifts({ kind: 'route', op: 'new', dst: '10.244.2.0/24', oif: 5, gateway: '10.244.2.9', onlink: true })).toBe(true);
  });

  it('ignores what weft does not keep, counts a notification without the entry as drift, and leaves the rest to the caller', () => {
    expect(drifts({ kind: 'neigh', op: 'new', index: 5, ip: '10.244.7.5', mac: '02:00:00:00:00:07', permanent: false })).toBe(false);
    expect(drifts({ kind: 'fdb', op: 'new', index: 5, mac: '02:00:00:00:00:07', dst: undefined, self: false })).toBe(false);
    expect(drifts({ kind: 'route', op: 'del', dst: '10.244.2.0/24', oif: 5 })).toBe(true);
    expect(drifts({ kind: 'neigh', op: 'del', index: 5 })).toBe(true);
    expect(drifts({ kind: 'neigh', op: 'new', index: 6, ip: '10.244.2.0', permanent: true })).toBeUndefined();
    expect(drifts({ kind: 'route', op: 'new', dst: '10.244.7.0/24', oif: 5, gateway: '10.244.7.0', onlink: true })).toBeUndefined();
    expect(drifts({ kind: 'link', op: 'del', index: 5, name: 'flannel.1' })).toBeUndefined();
  });
});
