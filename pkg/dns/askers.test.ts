import { describe, expect, it } from 'vitest';
import { isEndpointOf, isLocalAsker, localScope } from './askers.ts';
import type { DirectoryEntry } from './directory.ts';

// Issue 25: a network's DNS server and the link-local resolver were open resolvers for the underlay.
describe('isEndpointOf()', () => {
  const dir: DirectoryEntry[] = [
    { network: 'RED', name: 'web1', aliases: [], containerID: 'c1', address: '10.10.10.34', address6: 'fd00:70::22' },
    { network: 'BLUE', name: 'db', aliases: [], containerID: 'c2', address: '10.10.20.2' },
    { network: 'RED', name: 'only6', aliases: [], containerID: 'c3', address: '' },
  ];

  it('admits an endpoint of the network by either address, in any spelling', () => {
    expect(isEndpointOf(dir, 'RED', '10.10.10.34')).toBe(true);
    expect(isEndpointOf(dir, 'RED', 'fd00:70:0:0::22')).toBe(true);
  });

  it('refuses the underlay, another network, and what is not an address', () => {
    expect(isEndpointOf(dir, 'RED', '192.0.2.9')).toBe(false);
    expect(isEndpointOf(dir, 'RED', '10.10.20.2')).toBe(false);
    expect(isEndpointOf(dir, 'RED', '')).toBe(false);
    expect(isEndpointOf(dir, 'RED', 'not an address')).toBe(false);
  });
});

describe('the link-local resolver admits this host and its containers only', () => {
  const links = [
    { index: 1, kind: undefined, master: undefined }, // lo
    { index: 2, kind: undefined, master: 9 }, // eth0, a port of br0
    { index: 3, kind: 'bridge', master: undefined }, // docker0
    { index: 4, kind: 'veth', master: 3 },
    { index: 5, kind: 'bridge', master: undefined }, // w-RED, no container yet
    { index: 9, kind: 'bridge', master: undefined }, // br0 with the underlay NIC in it
  ];
  const addrs = [
    { index: 1, address: '127.0.0.1', cidr: '127.0.0.1/8' },
    { index: 1, address: '169.254.53.53', cidr: '169.254.53.53/32' },
    { index: 3, address: '172.17.0.1', cidr: '172.17.0.1/16' },
    { index: 5, address: '10.10.10.33', cidr: '10.10.10.33/27' },
    { index: 9, address: '192.0.2.1', cidr: '192.0.2.1/24' },
  ];
  const scope = localScope(links, addrs);

  it('counts the prefixes of bridges whose every port is a veth, and every address of the host', () => {
    expect(scope.containerPrefixes).toEqual(['172.17.0.1/16', '10.10.10.33/27']);
    expect(scope.hostAddrs).toContain('192.0.2.1');
  });

  it('admits the host, and containers behind docker0 and weft bridges', () => {
    for (const ip of ['127.0.0.1', '192.0.2.1', '172.17.0.5', '10.10.10.34']) expect(isLocalAsker(scope, ip)).toBe(true);
  });

  it('refuses neighbours on the underlay (even behind a bridge), other hosts containers, and garbage', () => {
    for (const ip of ['192.0.2.9', '10.10.10.66', '198.51.100.1', '', 'x']) expect(isLocalAsker(scope, ip)).toBe(false);
  });
});
