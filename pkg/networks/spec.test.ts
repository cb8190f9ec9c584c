import { describe, expect, it } from 'vitest';
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { classifyKey, decodeEndpoint, decodeMeta, keys } from './schema.ts';
import { defaultHostSubnetLen, networkConfigOf, nextVni, validateCreate } from './spec.ts';

const existing = [
  { name: 'default', subnet: '10.244.0.0/16' },
  { name: 'BLUE', subnet: '10.10.20.0/24' },
];

describe('validateCreate()', () => {
  it("accepts Docker's example and picks host subnets of /27 for a /24", () => {
    expect(validateCreate({ name: 'RED', subnet: '10.10.10.0/24' }, existing)).toEqual({
      ok: true,
      value: { name: 'RED', subnet: '10.10.10.0/24', gateway: undefined, vni: undefined, hostSubnetLen: 27, mtu: undefined },
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
    expect(decodeMeta('{"Name":"RED","Id":"ab","Subnet":"10.10.10.0/24","VNI":256,"HostSubnetLen":27}')).toMatchObject({
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
