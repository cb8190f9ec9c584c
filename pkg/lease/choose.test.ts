import { describe, expect, it } from 'vitest';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { chooseSubnet } from './choose.ts';
import { decodeLease, type SubnetLease } from './lease.ts';

const config: FamilyConfig = { network: '10.244.0.0/16', subnetLen: 24, subnetMin: '10.244.1.0', subnetMax: '10.244.255.0' };
const P = '/coreos.com/network/subnets';

function lease(subnet: string, publicIP: string, leaseId = '7'): SubnetLease {
  const d = decodeLease(P, {
    key: `${P}/${subnet.replace('/', '-')}`,
    value: encodeLeaseAttrs({ publicIP, vxlan: { vni: 1, vtepMac: '02:00:00:00:00:01' } }),
    leaseId,
    modRevision: '1',
  });
  if (!d.ok) throw new Error(d.reason);
  return d.lease;
}

describe('chooseSubnet()', () => {
  it("reuses the lease carrying this host's PublicIP (the first by key when there are several) when there is no subnet file", () => {
    const leases = [lease('10.244.9.0/24', '192.0.2.1'), lease('10.244.3.0/24', '192.0.2.1'), lease('10.244.4.0/24', '192.0.2.2')];
    const r = chooseSubnet({ config, leases, publicIP: '192.0.2.1' });
    expect(r.choice).toMatchObject({ kind: 'reuse', why: 'public-ip', lease: { subnet: '10.244.3.0/24' } });
    expect(r.ignored.map((i) => i.lease.subnet)).toEqual(['10.244.9.0/24']);
  });

  it('prefers the subnet file over a stale or forged lease with this PublicIP that sorts first (issue 11)', () => {
    const forged = lease('10.244.1.0/24', '192.0.2.1');
    const real = lease('10.244.66.0/24', '192.0.2.1');
    const r = chooseSubnet({ config, leases: [forged, real], publicIP: '192.0.2.1', previousSubnet: '10.244.66.0/24', pinned: true });
    expect(r.choice).toMatchObject({ kind: 'reuse', why: 'previous', lease: { subnet: '10.244.66.0/24' } });
    expect(r.ignored).toEqual([{ lease: forged, why: "this host's subnet file says 10.244.66.0/24" }]);
    // Its own key gone (expired) and only the forged one left: the previous subnet is created again.
    expect(chooseSubnet({ config, leases: [forged], publicIP: '192.0.2.1', previousSubnet: '10.244.66.0/24' }).choice).toEqual({
      kind: 'create',
      subnet: '10.244.66.0/24',
      why: 'previous',
    });
  });

  it('never renumbers a host with running pods: the previous subnet held by another host is reported, not replaced', () => {
    const other = lease('10.244.66.0/24', '192.0.2.9');
    const mine = lease('10.244.1.0/24', '192.0.2.1');
    const pinned = chooseSubnet({ config, leases: [other, mine], publicIP: '192.0.2.1', previousSubnet: '10.244.66.0/24', pinned: true });
    expect(pinned.choice).toEqual({ kind: 'held-elsewhere', subnet: '10.244.66.0/24', holder: other });
    // Without pods the host may move: to its own lease.
    expect(
      chooseSubnet({ config, leases: [other, mine], publicIP: '192.0.2.1', previousSubnet: '10.244.66.0/24', pinned: false }).choice,
    ).toMatchObject({ kind: 'reuse', lease: { subnet: '10.244.1.0/24' } });
  });

  it('reports leases with this PublicIP that no longer fit the config, and does not reuse them', () => {
    const old = lease('10.244.0.0/25', '192.0.2.1');
    const r = chooseSubnet({ config, leases: [old], publicIP: '192.0.2.1', random: () => 0 });
    expect(r.incompatible).toEqual([old]);
    expect(r.choice).toEqual({ kind: 'create', subnet: '10.244.1.0/24', why: 'random' });
  });

  it('takes the previous subnet when no one holds it, never when someone does', () => {
    expect(chooseSubnet({ config, leases: [], publicIP: 'x', previousSubnet: '10.244.42.0/24' }).choice).toEqual({
      kind: 'create',
      subnet: '10.244.42.0/24',
      why: 'previous',
    });
    const held = chooseSubnet({
      config,
      leases: [lease('10.244.42.0/24', '192.0.2.9')],
      publicIP: '192.0.2.1',
      previousSubnet: '10.244.42.0/24',
      random: () => 0,
    });
    expect(held.choice).toEqual({ kind: 'create', subnet: '10.244.1.0/24', why: 'random' });
  });

  it('picks at random among the first 100 free aligned subnets, skipping held, overlapping and excluded ones', () => {
    const leases = [lease('10.244.1.0/24', 'a.b'.replace('a.b', '192.0.2.5')), lease('10.244.2.0/23', '192.0.2.6')];
    const r = chooseSubnet({ config, leases, publicIP: '192.0.2.1', exclude: new Set(['10.244.4.0/24']), random: () => 0 });
    expect(r.choice).toEqual({ kind: 'create', subnet: '10.244.5.0/24', why: 'random' });
    const last = chooseSubnet({ config, leases: [], publicIP: '192.0.2.1', random: () => 0.999999 });
    expect(last.choice).toEqual({ kind: 'create', subnet: '10.244.100.0/24', why: 'random' });
  });

  it('says exhausted when every subnet is held', () => {
    const small: FamilyConfig = { network: '10.10.10.0/24', subnetLen: 26, subnetMin: '10.10.10.64', subnetMax: '10.10.10.192' };
    const leases = ['10.10.10.64/26', '10.10.10.128/26', '10.10.10.192/26'].map((s, i) => lease(s, `192.0.2.${i + 10}`));
    expect(chooseSubnet({ config: small, leases, publicIP: '192.0.2.1' }).choice).toEqual({ kind: 'exhausted' });
  });
});

describe('decodeLease()', () => {
  it('skips keys that are not subnets and values that do not decode, with the reason', () => {
    expect(decodeLease(P, { key: `${P}/garbage`, value: '{}', leaseId: '0', modRevision: '1' })).toEqual({
      ok: false,
      key: `${P}/garbage`,
      reason: 'not a subnet key',
    });
    expect(decodeLease(P, { key: `${P}/10.244.1.0-24`, value: 'nope', leaseId: '0', modRevision: '1' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not JSON'),
    });
  });
});
