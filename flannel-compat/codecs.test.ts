import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLeaseAttrs, encodeLeaseAttrs } from './lease-attrs.ts';
import { formatNetworkConfig, parseNetworkConfig, parseVxlanBackend, type NetworkConfig } from './network-config.ts';
import { makeSubnetKey, parseSubnetKey } from './subnet-key.ts';

const cfg = (text: string): NetworkConfig => {
  const r = parseNetworkConfig(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};
const reason = (text: string) => {
  const r = parseNetworkConfig(text);
  return r.ok ? undefined : r.reason;
};

describe('parseNetworkConfig() follows flannel ParseConfig + CheckNetworkConfig', () => {
  it("fills SubnetLen 24, SubnetMin = second subnet, SubnetMax = last subnet for a /16 (flannel's worked example)", () => {
    expect(cfg('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}')).toMatchObject({
      enableIPv4: true,
      enableIPv6: false,
      backendType: 'vxlan',
      ipv4: { network: '10.244.0.0/16', subnetLen: 24, subnetMin: '10.244.1.0', subnetMax: '10.244.255.0' },
    });
  });

  it('splits small networks into four (prefix + 2), refuses smaller than /28', () => {
    expect(cfg('{"Network":"10.10.10.0/24","Backend":{"Type":"vxlan"}}').ipv4).toMatchObject({
      subnetLen: 26,
      subnetMin: '10.10.10.64',
      subnetMax: '10.10.10.192',
    });
    expect(cfg('{"Network":"10.0.0.0/22"}').ipv4?.subnetLen).toBe(24);
    expect(cfg('{"Network":"10.0.0.0/23"}').ipv4?.subnetLen).toBe(25);
    expect(reason('{"Network":"10.0.0.0/29"}')).toBe('network is too small. Minimum useful network prefix is /28');
  });

  it('reads keys in any case, last one winning, as Go does', () => {
    expect(cfg('{"network":"10.1.0.0/16","SUBNETLEN":20,"backend":{"type":"VXLAN","vni":7}}')).toMatchObject({
      backendType: 'vxlan',
      ipv4: { subnetLen: 20, subnetMin: '10.1.16.0' },
    });
    expect(cfg('{"Network":"10.1.0.0/16","network":"10.2.0.0/16"}').ipv4?.network).toBe('10.2.0.0/16');
  });

  it("checks SubnetLen, SubnetMin and SubnetMax with flannel's messages", () => {
    expect(reason('{"Network":"10.0.0.0/16","SubnetLen":31}')).toBe('SubnetLen must be less than /31');
    expect(reason('{"Network":"10.0.0.0/16","SubnetLen":17}')).toBe('network must be able to accommodate at least four subnets');
    expect(reason('{"Network":"10.0.0.0/16","SubnetMin":"10.1.0.0"}')).toBe('SubnetMin is not in the range of the Network');
    expect(reason('{"Network":"10.0.0.0/16","SubnetMax":"10.0.5.7"}')).toBe('SubnetMax is not on a SubnetLen boundary: 10.0.5.7');
    expect(reason('{"Backend":{"Type":"vxlan"}}')).toBe('please define a correct Network parameter in the flannel config');
    expect(reason('{"Network":"10.0.0.0/16","EnableIPv4":"yes"}')).toBe('EnableIPv4 must be true or false');
    expect(reason('not json')).toMatch(/^the network config is not JSON/);
  });

  it("defaults a missing Backend to flannel's udp, which the vxlan reader refuses with the fix", () => {
    const c = cfg('{"Network":"10.0.0.0/16"}');
    expect(c.backendType).toBe('udp');
    expect(parseVxlanBackend(c)).toEqual({
      ok: false,
      reason: 'backend type "udp" in the network config; weft implements the vxlan backend: set "Backend": {"Type": "vxlan"}',
    });
  });

  it('reads the IPv6 half of a dual-stack config', () => {
    expect(cfg('{"Network":"10.0.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}').ipv6).toEqual({
      network: 'fc00::/48',
      subnetLen: 64,
      subnetMin: 'fc00:0:0:1::',
      subnetMax: 'fc00:0:0:ffff::',
    });
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.json(), (j) => {
        expect(() => parseNetworkConfig(j)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseVxlanBackend()', () => {
  it('defaults VNI 1, port 0 (kernel 8472), learning off', () => {
    expect(parseVxlanBackend(cfg('{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan"}}'))).toEqual({
      ok: true,
      value: { vni: 1, port: 0, mtu: undefined, gbp: false, learning: false, directRouting: false },
    });
  });

  it('reads VNI, Port, MTU and DirectRouting in any case and checks their ranges', () => {
    expect(
      parseVxlanBackend(cfg('{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","vni":4096,"port":4789,"mtu":9000,"directrouting":true}}')),
    ).toMatchObject({ value: { vni: 4096, port: 4789, mtu: 9000, directRouting: true } });
    expect(parseVxlanBackend(cfg('{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","VNI":16777216}}'))).toEqual({
      ok: false,
      reason: 'Backend.VNI must be an integer from 0 to 16777215',
    });
  });

  it('formatNetworkConfig() writes what parseNetworkConfig() reads back', () => {
    const back = cfg(formatNetworkConfig({ network: '10.10.10.0/24', vni: 256, mtu: 1400 }));
    expect(back.ipv4?.network).toBe('10.10.10.0/24');
    expect(parseVxlanBackend(back)).toMatchObject({ value: { vni: 256, mtu: 1400 } });
  });
});

describe('subnet keys', () => {
  it("round-trips IPv4 and dual-stack keys in flannel's form", () => {
    expect(makeSubnetKey('10.244.1.0/24')).toBe('10.244.1.0-24');
    expect(makeSubnetKey('10.244.1.0/24', 'fc00:0:0:1::/64')).toBe('10.244.1.0-24&fc00:0:0:1::-64');
    expect(parseSubnetKey('10.244.1.0-24&fc00:0:0:1::-64')).toEqual({ ipv4: '10.244.1.0/24', ipv6: 'fc00:0:0:1::/64' });
    expect(parseSubnetKey('10.244.1.0-24')).toEqual({ ipv4: '10.244.1.0/24', ipv6: undefined });
  });

  it('refuses keys that are not exactly a subnet', () => {
    for (const bad of [
      'config',
      'x10.244.1.0-24',
      '10.244.1.0-24x',
      '10.244.1.5-24',
      '10.244.1.0-33',
      '10.244.1.0',
      '300.1.1.0-24',
      '10.244.1.0-24&fc00::1-64',
      '10.244.1.0-24&FC00::-64',
    ]) {
      expect(parseSubnetKey(bad), bad).toBeUndefined();
    }
  });
});

describe('lease attrs', () => {
  const golden = readFileSync(new URL('./testdata/lease-flanneld.json', import.meta.url), 'utf8');

  it('encodes byte for byte what flanneld writes', () => {
    expect(encodeLeaseAttrs({ publicIP: '192.168.64.3', vxlan: { vni: 1, vtepMac: 'c6:d2:32:6f:8f:44' } })).toBe(golden);
  });

  it("decodes flanneld's value, and keys in any case with any ParseMAC form", () => {
    expect(decodeLeaseAttrs(golden)).toEqual({
      ok: true,
      value: {
        publicIP: '192.168.64.3',
        publicIPv6: undefined,
        backendType: 'vxlan',
        vxlan: { vni: 1, vtepMac: 'c6:d2:32:6f:8f:44' },
        vxlanV6: undefined,
      },
    });
    expect(
      decodeLeaseAttrs('{"publicip":"10.0.0.1","backendtype":"vxlan","backenddata":{"vni":2,"vtepmac":"C6-D2-32-6F-8F-44"}}'),
    ).toMatchObject({ value: { vxlan: { vni: 2, vtepMac: 'c6:d2:32:6f:8f:44' } } });
  });

  it('keeps non-vxlan leases (they are skipped by the planner) and reports malformed ones', () => {
    expect(decodeLeaseAttrs('{"PublicIP":"10.0.0.1","BackendType":"host-gw"}')).toMatchObject({
      ok: true,
      value: { backendType: 'host-gw', vxlan: undefined },
    });
    expect(decodeLeaseAttrs('{"PublicIP":"10.0.0.1","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"nope"}}')).toEqual({
      ok: false,
      reason: 'BackendData.VtepMAC "nope" is not a MAC address',
    });
    expect(decodeLeaseAttrs('{"PublicIP":"::1"}')).toEqual({ ok: false, reason: 'PublicIP "::1" is not an IPv4 address' });
    expect(decodeLeaseAttrs('[]')).toEqual({ ok: false, reason: 'lease value is not a JSON object' });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (s) => {
        expect(() => decodeLeaseAttrs(s)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
