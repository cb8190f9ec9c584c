import { describe, expect, it } from 'vitest';
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { classifyKey, decodeEndpoint, decodeMeta, keys } from './schema.ts';
import { defaultHostSubnetLen, defaultHostSubnetLen6, networkConfigOf, nextVni, validateCreate } from './spec.ts';

const existing = [
  { name: 'default', subnet: '10.244.0.0/16' },
  { name: 'BLUE', subnet: '10.10.20.0/24' },
];

describe('validateCreate()', () => {
  it("accepts Docker's example and picks host subnets of /27 for a /24", () => {
    expect(validateCreate({ name: 'RED', subnet: '10.10.10.0/24' }, existing)).toEqual({
      ok: true,
      value: {
        name: 'RED',
        subnet: '10.10.10.0/24',
        gateway: undefined,
        vni: undefined,
        hostSubnetLen: 27,
        mtu: undefined,
        subnet6: undefined,
        hostSubnetLen6: undefined,
      },
    });
    expect(defaultHostSubnetLen(16)).toBe(24);
    expect(defaultHostSubnetLen(22)).toBe(24);
    expect(defaultHostSubnetLen(23)).toBe(26);
  });

  it("refuses a duplicate name with Docker's message and an overlapping subnet naming the other network", () => {
    expect(validateCreate({ name: 'BLUE', subnet: '10.10.30.0/24' }, existing)).toEqual({
      ok: false,
      reason: 'network with name BLUE already exists',
      nameTaken: true,
    });
    expect(validateCreate({ name: 'RED', subnet: '10.10.0.0/16' }, existing)).toEqual({
      ok: false,
      reason: 'subnet 10.10.0.0/16 overlaps with network BLUE (10.10.20.0/24)',
    });
    expect(validateCreate({ name: 'RED', subnet: '10.244.5.0/24' }, existing)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('overlaps with network default'),
    });
  });

  it('makes a dual-stack network with --ipv6 and an IPv6 range: a /64 per host from a /56 up, else 16 bits more', () => {
    const dual = validateCreate({ name: 'DS', subnet: '10.70.0.0/24', ipv6: true, subnet6: 'fd00:70::/64' }, existing);
    expect(dual).toMatchObject({ ok: true, value: { subnet6: 'fd00:70::/64', hostSubnetLen6: 80 } });
    expect([defaultHostSubnetLen6(48), defaultHostSubnetLen6(56), defaultHostSubnetLen6(60)]).toEqual([64, 64, 76]);
    const cfg = parseNetworkConfig(
      networkConfigOf({
        Subnet: '10.70.0.0/24',
        VNI: 300,
        MTU: undefined,
        HostSubnetLen: 27,
        SubnetV6: 'fd00:70::/64',
        HostSubnetLenV6: 80,
      }),
    );
    expect(cfg).toMatchObject({ ok: true, value: { ipv6: { network: 'fd00:70::/64', subnetLen: 80, subnetMin: 'fd00:70:0:0:1::' } } });
  });

  it('refuses an IPv6 range without --ipv6, --ipv6 without one, a small one, and one overlapping another IPv6 range', () => {
    const others = [...existing, { name: 'DS', subnet: '10.70.0.0/24', subnet6: 'fd00:70::/64' }];
    const check = (req: { subnet6?: string; ipv6?: boolean }) => validateCreate({ name: 'X', subnet: '10.71.0.0/24', ...req }, others);
    expect(check({ subnet6: 'fd00:71::/64' })).toMatchObject({ ok: false, reason: expect.stringContaining('pass --ipv6') });
    expect(check({ ipv6: true })).toMatchObject({ ok: false, reason: expect.stringContaining('--ipv6 needs an IPv6 --subnet') });
    expect(check({ ipv6: true, subnet6: 'fd00:71::/96' })).toMatchObject({ reason: expect.stringContaining('give a /64 or larger') });
    expect(check({ ipv6: true, subnet6: '10.72.0.0/24' })).toMatchObject({ reason: expect.stringContaining('is not an IPv6 range') });
    expect(check({ ipv6: true, subnet6: 'fd00::/16' })).toMatchObject({
      reason: 'subnet fd00::/16 overlaps with network DS (fd00:70::/64)',
    });
    expect(validateCreate({ name: 'X', subnet: 'fd00:72::/64' }, others)).toMatchObject({
      reason: expect.stringContaining('pass --ipv6 (an IPv6-only network)'),
    });
  });

  it('makes an IPv6-only network from --ipv6 and an IPv6 range alone: that range is its Subnet', () => {
    const others = [...existing, { name: 'DS', subnet: '10.70.0.0/24', subnet6: 'fd00:70::/64' }];
    expect(validateCreate({ name: 'SIX', subnet: 'fd00:72::/56', ipv6: true }, others)).toMatchObject({
      ok: true,
      value: { subnet: 'fd00:72::/56', hostSubnetLen: 64, subnet6: undefined },
    });
    expect(validateCreate({ name: 'SIX', subnet: 'fd00:70::/48', ipv6: true }, others)).toMatchObject({
      reason: 'subnet fd00:70::/48 overlaps with network DS (fd00:70::/64)',
    });
    // A dual-stack network's IPv6 range is checked against IPv6-only networks' ranges too.
    const withSix = [...others, { name: 'SIX', subnet: 'fd00:72::/56' }];
    expect(validateCreate({ name: 'D2', subnet: '10.73.0.0/24', ipv6: true, subnet6: 'fd00:72::/64' }, withSix)).toMatchObject({
      reason: 'subnet fd00:72::/64 overlaps with network SIX (fd00:72::/56)',
    });
    expect(validateCreate({ name: 'SIX', subnet: 'fd00:72::/64', ipv6: true, gateway: '10.0.0.1' }, others)).toMatchObject({
      reason: 'gateway 10.0.0.1 is not an IPv6 address',
    });
    const cfg = parseNetworkConfig(networkConfigOf({ Subnet: 'fd00:72::/56', VNI: 301, MTU: undefined, HostSubnetLen: 64 }));
    expect(cfg).toMatchObject({
      ok: true,
      value: { enableIPv4: false, ipv4: undefined, ipv6: { network: 'fd00:72::/56', subnetLen: 64 } },
    });
  });

  it('reports every bad option at once', () => {
    const r = validateCreate(
      { name: '-bad', driver: 'bridge', subnet: '10.10.10.7/24', gateway: '10.9.9.9', vni: 0, mtu: 100000 },
      existing,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      for (const part of [
        'invalid network name "-bad"',
        'driver "bridge" is not supported',
        'has host bits set; did you mean 10.10.10.0/24?',
        '--vni 0 must be',
        '--mtu 100000 must be',
      ])
        expect(r.reason).toContain(part);
    }
    expect(validateCreate({ name: 'X', subnet: '10.1.1.0/24', gateway: '10.1.2.1' }, [])).toMatchObject({
      ok: false,
      reason: 'gateway 10.1.2.1 is not an assignable address of 10.1.1.0/24',
    });
    expect(validateCreate({ name: 'X', subnet: '10.1.1.0/27' }, [])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('too small'),
    });
    expect(validateCreate({ name: 'default', subnet: '10.1.1.0/24' }, [])).toMatchObject({ ok: false });
  });

  it('checks --host-subnet-len against the subnet', () => {
    expect(validateCreate({ name: 'X', subnet: '10.1.0.0/16', hostSubnetLen: 20 }, [])).toMatchObject({
      ok: true,
      value: { hostSubnetLen: 20 },
    });
    expect(validateCreate({ name: 'X', subnet: '10.1.0.0/16', hostSubnetLen: 17 }, [])).toMatchObject({
      ok: false,
      reason: '--host-subnet-len 17 must be from 18 to 29',
    });
  });
});

describe('networkConfigOf()', () => {
  it("writes a flannel config the daemon's agent reads back with the same subnets, VNI and MTU", () => {
    const text = networkConfigOf({ Subnet: '10.10.10.0/24', VNI: 256, MTU: 1400, HostSubnetLen: 27 });
    const cfg = parseNetworkConfig(text);
    expect(cfg).toMatchObject({
      ok: true,
      value: { ipv4: { network: '10.10.10.0/24', subnetLen: 27, subnetMin: '10.10.10.32', subnetMax: '10.10.10.224' } },
    });
    if (cfg.ok) expect(parseVxlanBackend(cfg.value)).toMatchObject({ value: { vni: 256, mtu: 1450 } });
  });
});

describe('nextVni()', () => {
  it('takes the lowest free VNI from 256 up', () => {
    expect(nextVni(new Set())).toBe(256);
    expect(nextVni(new Set([256, 257, 259]))).toBe(258);
  });
});

describe('schema', () => {
  it('classifies keys under the networks prefix', () => {
    expect(classifyKey('/weft', keys.meta('/weft', 'ab'))).toEqual({ kind: 'meta', id: 'ab' });
    expect(classifyKey('/weft', keys.endpoint('/weft', 'ab', 'c1'))).toEqual({ kind: 'endpoint', id: 'ab', name: 'c1' });
    expect(classifyKey('/weft', '/weft/networks/ab/subnets/10.10.10.32-27')).toEqual({ kind: 'subnet', id: 'ab' });
    expect(classifyKey('/weft', '/weft/names/RED')).toEqual({ kind: 'other' });
  });

  it('decodes meta and endpoints and refuses incomplete ones', () => {
    const id = 'ab'.repeat(32);
    expect(decodeMeta(`{"Name":"RED","Id":"${id}","Subnet":"10.10.10.0/24","VNI":256,"HostSubnetLen":27}`)).toMatchObject({
      ok: true,
      value: { Name: 'RED', Scope: 'global', Driver: 'overlay' },
    });
    expect(decodeMeta('{"Name":"RED"}').ok).toBe(false);
    expect(decodeEndpoint('{"Name":"c1","NetworkID":"ab","Host":"h1","ContainerID":"x","IPv4Address":"10.10.10.34/27"}')).toMatchObject({
      ok: true,
      value: { Aliases: [] },
    });
    expect(decodeEndpoint('nope').ok).toBe(false);
  });
});
