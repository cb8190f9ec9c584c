import { describe, expect, it } from 'vitest';
import type { SubnetLease } from '../lease/mod.ts';
import type { Families } from './families.ts';
import { notUnicast, screenLeases } from './screen.ts';

const v4: Families = {
  keyFamily: 4,
  configs: { 4: { network: '10.244.0.0/16', subnetLen: 24, subnetMin: '10.244.1.0', subnetMax: '10.244.255.0' } },
  vx: { vni: 1, port: 8472, mtu: undefined, gbp: false, learning: false, directRouting: false },
  six: undefined,
};

let rev = 10;
function lease(subnet: string, publicIP: string, ipv6Subnet?: string): SubnetLease {
  return {
    key: `/p/subnets/${subnet.replace('/', '-')}${ipv6Subnet ? `&${ipv6Subnet.replace('/', '-')}` : ''}`,
    subnet,
    ipv6Subnet,
    attrs: JSON.parse(JSON.stringify({ publicIP, backendType: 'vxlan', vxlan: { vni: 1, vtepMac: '02:00:00:00:00:09' } })),
    leaseId: '5',
    modRevision: String(++rev),
    createRevision: String(rev),
  };
}

describe('screening peers', () => {
  const forbidden = ['192.0.2.1/24', '192.0.2.1', '192.0.2.250'];
  const own = { key: '/p/subnets/10.244.5.0-24', subnet: '10.244.5.0/24', ipv6Subnet: undefined, createRevision: '3' };

  it('programs a valid peer; leaves out a lease outside the range, on the underlay or etcd, or with a non-unicast PublicIP', () => {
    const r = screenLeases({
      f: v4,
      own,
      forbidden,
      peers: [
        lease('10.244.7.0/24', '192.0.2.7'),
        lease('192.0.2.250/32', '192.0.2.9'),
        lease('10.0.0.0/8', '192.0.2.9'),
        lease('10.244.9.0/24', '224.0.0.1'),
        lease('10.244.10.0/24', '0.0.0.0'),
      ],
    });
    expect(r.kept.map((l) => l.subnet)).toEqual(['10.244.7.0/24']);
    expect(r.invalid.map((x) => `${x.lease.subnet}: ${x.why}`)).toEqual([
      "192.0.2.250/32: its subnet 192.0.2.250/32 is outside the network's range 10.244.0.0/16",
      "10.0.0.0/8: its subnet 10.0.0.0/8 is outside the network's range 10.244.0.0/16",
      '10.244.9.0/24: its PublicIP 224.0.0.1 is not a unicast address',
      '10.244.10.0/24: its PublicIP 0.0.0.0 is not a unicast address',
    ]);
  });

  it("remembers each lease object's verdict in the memo, so a later call parses only new leases (issue 28)", () => {
    const memo = new WeakMap<SubnetLease, string | null>();
    const good = lease('10.244.7.0/24', '192.0.2.7');
    const bad = lease('10.244.9.0/24', '224.0.0.1');
    screenLeases({ f: v4, own, forbidden, peers: [good, bad], memo });
    expect(memo.get(good)).toBeNull();
    expect(memo.get(bad)).toBe('its PublicIP 224.0.0.1 is not a unicast address');
    // A verdict in the memo is taken as it is: the lease is not looked at again.
    memo.set(good, 'remembered');
    const r = screenLeases({ f: v4, own, forbidden, peers: [good, bad, lease('10.244.8.0/24', '192.0.2.8')], memo });
    expect(r.invalid.map((x) => x.why)).toEqual(['remembered', 'its PublicIP 224.0.0.1 is not a unicast address']);
    expect(r.kept.map((l) => l.subnet)).toEqual(['10.244.8.0/24']);
  });

  it('leaves out a lease inside the range that covers a forbidden address (a range that holds the underlay)', () => {
    const f = { ...v4, configs: { 4: { ...v4.configs[4]!, network: '192.0.0.0/8' } } };
    const r = screenLeases({
      f,
      own: undefined,
      forbidden,
      peers: [lease('192.0.2.0/24', '198.51.100.2'), lease('192.0.3.0/24', '198.51.100.3')],
    });
    expect(r.kept.map((l) => l.subnet)).toEqual(['192.0.3.0/24']);
    expect(r.invalid[0]!.why).toMatch(/covers an underlay or etcd address/);
  });

  it("an IPv6 half is checked against the network's IPv6 range; conflicts are reported apart from invalid leases", () => {
    const f: Families = {
      ...v4,
      configs: { ...v4.configs, 6: { network: 'fd00::/48', subnetLen: 64, subnetMin: 'fd00:0:0:1::', subnetMax: 'fd00:0:0:ff::' } },
      six: 'inner',
    };
    const r = screenLeases({
      f,
      own,
      forbidden,
      peers: [
        lease('10.244.8.0/24', '192.0.2.8', 'fd00:0:0:8::/64'),
        lease('10.244.6.0/24', '192.0.2.6', 'fe80::/64'),
        lease('10.244.5.0/25', '192.0.2.5'),
      ],
    });
    expect(r.kept.map((l) => l.subnet)).toEqual(['10.244.8.0/24']);
    expect(r.invalid.map((x) => x.why)).toEqual(["its subnet fe80::/64 is outside the network's range fd00::/48"]);
    expect(r.conflicts.map((c) => c.with)).toEqual([own.key]);
  });

  it('knows unicast addresses of both families', () => {
    for (const ip of ['192.0.2.1', '10.0.0.1', '2001:db8::1', 'fd00::1']) expect(notUnicast(ip)).toBeUndefined();
    for (const ip of ['0.0.0.0', '127.0.0.1', '255.255.255.255', '239.1.1.1', '::', '::1', 'ff02::1', 'bogus'])
      expect(notUnicast(ip)).toBeDefined();
  });
});
