import { describe, expect, it } from 'vitest';
import { canonicalPool, networkOptions, networkRanges, poolId, subnetOfPool } from './protocol.ts';

const v4 = (Pool: string, AddressSpace = 'weft') => ({ NetworkID: 'x', IPv4Data: [{ AddressSpace, Pool }] });

describe("Docker's plugin protocol", () => {
  it('reads -o options as numbers and refuses unknown or non-numeric ones, all at once', () => {
    expect(networkOptions({ 'com.docker.network.generic': { vni: '4242', 'com.docker.network.driver.mtu': '1400' } })).toEqual({
      vni: 4242,
      mtu: 1400,
      hostSubnetLen: undefined,
    });
    expect(networkOptions(undefined)).toEqual({ vni: undefined, mtu: undefined, hostSubnetLen: undefined });
    expect(() => networkOptions({ 'com.docker.network.generic': { vlan: '3', mtu: 'big' } })).toThrow(
      'unknown option "vlan" (weft takes -o vni=N, -o mtu=N, -o host-subnet-len=N); option mtu must be a whole number, got "big"',
    );
  });

  it("takes one IPv4 range and, with --ipv6, one IPv6 range from weft's IPAM, and says what to add when Docker's own made them", () => {
    expect(networkRanges(v4('10.10.10.0/24'))).toEqual({ subnet: '10.10.10.0/24', subnet6: undefined });
    const dual = { ...v4('10.10.10.0/24'), IPv6Data: [{ AddressSpace: 'weft', Pool: 'fd00:10::/64' }] };
    expect(networkRanges(dual)).toEqual({ subnet: '10.10.10.0/24', subnet6: 'fd00:10::/64' });
    expect(() => networkRanges(v4('10.10.10.0/24', 'LocalDefault'))).toThrow(/add --ipam-driver weft/);
    expect(() => networkRanges({ ...dual, IPv6Data: [{ AddressSpace: 'LocalDefault', Pool: 'fd00::/64' }] })).toThrow(/--ipam-driver weft/);
    expect(() => networkRanges({ NetworkID: 'x', IPv4Data: [] })).toThrow(/exactly one IPv4 subnet, got 0/);
    expect(() => canonicalPool('10.10.10.0/24', 6)).toThrow(/not an IPv6 network/);
  });

  it('pool IDs carry their range, so they need no table across restarts', () => {
    expect(subnetOfPool(poolId(canonicalPool('10.10.10.0/24')))).toBe('10.10.10.0/24');
    expect(() => canonicalPool('10.10.10.1/24')).toThrow(/not an IPv4 network/);
    expect(() => subnetOfPool('default:10.0.0.0/8')).toThrow(/not one of weft's/);
  });
});
