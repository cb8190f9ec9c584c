/**
 * Records read back from etcd are judged as API input (issue 25): each bad field of a network or endpoint
 * record is refused with why, a network clashing with an earlier one is refused as `network create` refuses
 * it, a stored config that is not its meta's is named, and no name that could leave a directory builds a path.
 */
import { describe, expect, it } from 'vitest';
import { conflistFileName, leaseFileName, networkKey } from './names.ts';
import { acceptEndpoint, acceptNetworks, configProblem, endpointNameProblem, printable, validateEndpoint } from './record.ts';
import { decodeMeta, keys, MAX_RECORD_BYTES, type Endpoint, type NetworkMeta } from './schema.ts';
import { networkConfigOf, validateMeta } from './spec.ts';

const ROOT = '/weft';
const ID = 'ab'.repeat(32);
const RED: NetworkMeta = {
  Name: 'RED',
  Id: ID,
  Created: '2026-12-07T15:00:00.000Z',
  Driver: 'overlay',
  Scope: 'global',
  Subnet: '10.10.10.0/24',
  Gateway: undefined,
  VNI: 256,
  MTU: undefined,
  HostSubnetLen: 27,
};

const refusal = (m: Partial<NetworkMeta> | Record<string, unknown>) => {
  const r = decodeMeta(JSON.stringify({ ...RED, ...m }));
  return r.ok ? 'accepted' : r.reason;
};

describe('a network record read from etcd', () => {
  it('is accepted when it is what `network create` writes, IPv4, dual-stack or IPv6-only', () => {
    expect(decodeMeta(JSON.stringify(RED))).toEqual({ ok: true, value: RED });
    const dual = { ...RED, Gateway: '10.10.10.5', MTU: 1400, SubnetV6: 'fd00:70::/64', HostSubnetLenV6: 80 };
    expect(decodeMeta(JSON.stringify(dual))).toEqual({ ok: true, value: dual });
    expect(refusal({ Subnet: 'fd00:71::/64', HostSubnetLen: 80 })).toBe('accepted');
  });

  it('is refused for each bad field, saying which and why', () => {
    expect(refusal({ Name: 'x" ; } ; } ; table ip weftpwn { chain c { counter comment "y' })).toBe(
      'invalid network name "x\\" ; } ; } ; table ip weftpwn { chain c { counter comment \\"y": use letters, digits, _ . - ' +
        '(starting with a letter or digit, at most 63)',
    );
    expect(refusal({ Name: '../../etc/x' })).toMatch(/^invalid network name "\.\.\/\.\.\/etc\/x"/);
    expect(refusal({ Name: 'a'.repeat(64) })).toMatch(/^invalid network name/);
    expect(refusal({ Name: 'default' })).toBe('network name "default" is the flannel default network\'s');
    expect(refusal({ Id: 'ab' })).toBe('its ID "ab" is not 64 hex digits');
    expect(refusal({ Id: ID.toUpperCase() })).toMatch(/is not 64 hex digits/);
    expect(refusal({ Subnet: '10.10.10.1/24' })).toMatch(/^subnet 10\.10\.10\.1\/24 has host bits set; did you mean 10\.10\.10\.0\/24\?/);
    expect(refusal({ Subnet: '10.10.10.0/33' })).toMatch(/invalid prefix length "33"/);
    expect(refusal({ Subnet: '10.10.10.0/24 } ; table ip x {' })).toMatch(/invalid prefix length/);
    expect(refusal({ Subnet: '10.10.10.0/28' })).toMatch(/is too small/);
    expect(refusal({ Subnet: 'FD00:71::/64', HostSubnetLen: 80 })).toBe(
      'its subnet "FD00:71::/64" is not as create writes it (fd00:71::/64)',
    );
    expect(refusal({ VNI: 0 })).toBe('--vni 0 must be from 1 to 16777215');
    expect(refusal({ VNI: 16777216 })).toBe('--vni 16777216 must be from 1 to 16777215');
    expect(refusal({ VNI: 2.5 })).toBe('--vni 2.5 must be from 1 to 16777215');
    expect(refusal({ MTU: 100 })).toBe('--mtu 100 must be from 576 to 9000');
    expect(refusal({ HostSubnetLen: 25 })).toBe('--host-subnet-len 25 must be from 26 to 29');
    expect(refusal({ HostSubnetLen: 31 })).toBe('--host-subnet-len 31 must be from 26 to 29');
    expect(refusal({ Gateway: '10.10.11.1' })).toBe('gateway 10.10.11.1 is not an assignable address of 10.10.10.0/24');
    expect(refusal({ Gateway: 'x' })).toBe('gateway x is not an IPv4 address');
    expect(refusal({ SubnetV6: 'fd00:70::/80', HostSubnetLenV6: 96 })).toBe('IPv6 subnet fd00:70::/80 is too small: give a /64 or larger');
    expect(refusal({ SubnetV6: 'fd00:70::/64', HostSubnetLenV6: 120 })).toBe(
      'its IPv6 host subnet length 120 is not as create writes it (80)',
    );
    expect(refusal({ Created: 'now\nforged line' })).toBe('its creation time is not a timestamp');
    expect(refusal({ Created: 'x'.repeat(65) })).toBe('its creation time is not a timestamp');
  });

  it('is refused when a field has the wrong type, a pair is half there, or the value is huge', () => {
    expect(refusal({ MTU: '1500' })).toBe("network meta's MTU is not a number");
    expect(refusal({ Gateway: 5 })).toBe("network meta's Gateway is not a string");
    expect(refusal({ Driver: 'bridge' })).toBe('network meta\'s Driver is not "overlay"');
    expect(refusal({ Scope: 'local' })).toBe('network meta\'s Scope is not "global"');
    expect(refusal({ SubnetV6: 'fd00:70::/64' })).toBe('network meta has one of SubnetV6 and HostSubnetLenV6');
    expect(refusal({ VNI: '256' })).toBe('network meta lacks Name, Id, Subnet, VNI or HostSubnetLen');
    expect(refusal({ Pad: 'x'.repeat(MAX_RECORD_BYTES) })).toBe(`network meta is over ${MAX_RECORD_BYTES} bytes`);
    expect(decodeMeta('[1]')).toEqual({ ok: false, reason: 'network meta is not an object' });
    expect(decodeMeta('{')).toEqual({ ok: false, reason: 'network meta is not JSON' });
  });

  it('reports every problem at once', () => {
    expect(validateMeta({ ...RED, Id: 'x', VNI: 0, MTU: 1 })).toEqual({
      ok: false,
      reason: 'its ID "x" is not 64 hex digits; --vni 0 must be from 1 to 16777215; --mtu 1 must be from 576 to 9000',
    });
  });
});

const kv = (m: Partial<NetworkMeta>, createRevision: string, key = keys.meta(ROOT, m.Id ?? ID)) => ({
  key,
  value: JSON.stringify({ ...RED, ...m }),
  createRevision,
});
const idOf = (n: number) => n.toString(16).padStart(64, '0');

describe('acceptNetworks()', () => {
  it('refuses, as create does, a name, a range or a VNI an earlier network has; the earlier one keeps it', () => {
    const { accepted, refused } = acceptNetworks(ROOT, [
      kv({ Id: idOf(4), Name: 'LATE', Subnet: '10.10.40.0/24', VNI: 256 }, '40'),
      kv({ Id: idOf(1), Name: 'RED' }, '10'),
      kv({ Id: idOf(2), Name: 'RED', Subnet: '10.10.20.0/24', VNI: 257 }, '20'),
      kv({ Id: idOf(3), Name: 'SHADOW', Subnet: '10.10.10.128/25', VNI: 258 }, '30'),
      { key: `${ROOT}/networks/${idOf(1)}/config`, value: '{}', createRevision: '10' },
    ]);
    expect(accepted.map((m) => m.Id)).toEqual([idOf(1)]);
    expect(refused).toEqual([
      { key: keys.meta(ROOT, idOf(2)), reason: 'network with name RED already exists' },
      { key: keys.meta(ROOT, idOf(3)), reason: 'subnet 10.10.10.128/25 overlaps with network RED (10.10.10.0/24)' },
      { key: keys.meta(ROOT, idOf(4)), reason: 'VNI 256 is used by network RED' },
    ]);
  });

  it("refuses a meta whose ID is not its key's, and one on the default network's range or VNI", () => {
    const { accepted, refused } = acceptNetworks(
      ROOT,
      [
        kv({ Id: idOf(2) }, '1', keys.meta(ROOT, idOf(1))),
        kv({ Id: idOf(3), Subnet: '10.244.7.0/24' }, '2'),
        kv({ Id: idOf(4), Subnet: '10.10.40.0/24', VNI: 1 }, '3'),
      ],
      { subnet: '10.244.0.0/16', vni: 1 },
    );
    expect(accepted).toEqual([]);
    expect(refused.map((r) => r.reason)).toEqual([
      `its ID ${idOf(2)} is not the one in its key`,
      'subnet 10.244.7.0/24 overlaps with network default (10.244.0.0/16)',
      'VNI 1 is used by network default',
    ]);
  });

  it('makes the key and reason printable: stored text cannot forge a log line', () => {
    const { refused } = acceptNetworks(ROOT, [kv({ Name: 'a\nb' }, '1', `${ROOT}/networks/x\ny/meta`)]);
    expect(refused).toEqual([{ key: `${ROOT}/networks/x\\u000ay/meta`, reason: expect.stringMatching(/^invalid network name "a\\nb"/) }]);
    expect(printable('tab\there\u2028')).toBe('tab\\u0009here\\u2028');
  });
});

const WEB: Endpoint = {
  Name: 'web1',
  EndpointID: 'cd'.repeat(32),
  NetworkID: ID,
  Network: 'RED',
  Host: 'h1',
  HostIP: '192.0.2.1',
  ContainerID: 'c0ffee',
  Interface: 'eth0',
  IPv4Address: '10.10.10.34/24',
  IPv6Address: '',
  MacAddress: '02:42:0a:0a:0a:22',
  Aliases: ['www', 'web.red'],
  Created: '2026-12-07T15:00:00.000Z',
};
const epRefusal = (e: Partial<Endpoint>, net: NetworkMeta = RED) => {
  const r = validateEndpoint({ ...WEB, ...e }, net);
  return r.ok ? 'accepted' : r.reason;
};

describe('an endpoint record read from etcd', () => {
  it('is accepted when it is what the daemon writes', () => {
    expect(acceptEndpoint(ROOT, { key: keys.endpoint(ROOT, ID, 'web1'), value: JSON.stringify(WEB) }, RED)).toEqual({
      ok: true,
      value: WEB,
    });
    const dual = { ...RED, SubnetV6: 'fd00:70::/64', HostSubnetLenV6: 80 };
    expect(epRefusal({ IPv6Address: 'fd00:70::22/64' }, dual)).toBe('accepted');
    expect(epRefusal({ IPv4Address: '', IPv6Address: 'fd00:70::22/64' }, dual)).toBe('accepted');
    expect(epRefusal({ Name: 'pod.namespace', Aliases: [], HostIP: '', EndpointID: '', MacAddress: '', Interface: '' })).toBe('accepted');
  });

  it('is refused for each bad field, saying which and why', () => {
    expect(epRefusal({ Name: 'evil;$(reboot)' })).toBe(
      'invalid name "evil;$(reboot)": use letters, digits, _ . - (starting with a letter or digit, at most 63, no empty label)',
    );
    expect(epRefusal({ Name: 'a..b' })).toMatch(/^invalid name "a\.\.b"/);
    expect(epRefusal({ Name: 'trailing.' })).toMatch(/^invalid name/);
    expect(epRefusal({ Aliases: ['ok', 'bad alias'] })).toMatch(/^invalid alias "bad alias"/);
    expect(epRefusal({ Aliases: Array.from({ length: 33 }, (_, i) => `a${i}`) })).toBe('it has 33 aliases (at most 32)');
    expect(epRefusal({ NetworkID: idOf(9) })).toBe(`its NetworkID "${idOf(9)}" is not its network's`);
    expect(epRefusal({ Network: 'BLUE' })).toBe('its Network "BLUE" is not its network\'s name');
    expect(epRefusal({ ContainerID: '../c' })).toBe('its ContainerID "../c" is not letters, digits, _ . -');
    expect(epRefusal({ EndpointID: 'e-1' })).toBe('its EndpointID "e-1" is not 64 hex digits');
    expect(epRefusal({ MacAddress: '02:42' })).toBe('its MacAddress "02:42" is not a MAC address');
    expect(epRefusal({ HostIP: '192.0.2.001' })).toBe('its HostIP "192.0.2.001" is not an address');
    expect(epRefusal({ Host: 'h"1' })).toBe('its Host "h\\"1" is not a host name');
    expect(epRefusal({ Interface: 'eth 0' })).toBe('its Interface "eth 0" is not an interface name');
    expect(epRefusal({ Created: 'x\ny' })).toBe('its Created "x\\ny" is not a timestamp');
    expect(epRefusal({ IPv4Address: '192.0.2.99/24' })).toBe('its address 192.0.2.99/24 is not in the network (10.10.10.0/24)');
    expect(epRefusal({ IPv4Address: '10.10.10.34' })).toBe('its IPv4 address "10.10.10.34" is not an IPv4 address with its prefix length');
    expect(epRefusal({ IPv6Address: 'fd00:70::22/64' })).toBe('its address fd00:70::22/64 is not in the network (it has no IPv6 range)');
    expect(epRefusal({ IPv4Address: '' })).toBe('it has no address');
  });

  it("is refused under another name's key, under another network, or when it does not decode", () => {
    const at = (name: string, e: Partial<Endpoint>, id = ID) =>
      acceptEndpoint(ROOT, { key: keys.endpoint(ROOT, id, name), value: JSON.stringify({ ...WEB, ...e }) }, RED);
    expect(at('impostor', { Name: 'web2' })).toEqual({ ok: false, reason: 'its name "web2" is not the one in its key' });
    expect(at('web1', {}, idOf(9))).toEqual({ ok: false, reason: 'it is not an endpoint of network RED' });
    expect(at('evil', { Name: 'evil\n' })).toMatchObject({ ok: false, reason: expect.not.stringContaining('\n') });
    expect(at('web1', { Aliases: [1] as unknown as string[] })).toEqual({
      ok: false,
      reason: "endpoint's Aliases is not a list of strings",
    });
    expect(at('web1', { IPv4Address: 5 as unknown as string })).toEqual({ ok: false, reason: "endpoint's IPv4Address is not a string" });
  });

  it('names its problem per name rule', () => {
    expect(endpointNameProblem('web-1_a.b')).toBeUndefined();
    expect(endpointNameProblem('-web')).toMatch(/^invalid name/);
  });
});

describe('configProblem()', () => {
  it("names a stored config that is not its meta's; none when it is, or when there is none", () => {
    expect(configProblem(RED, networkConfigOf(RED))).toBeUndefined();
    expect(configProblem(RED, undefined)).toBeUndefined();
    expect(
      configProblem(RED, JSON.stringify({ Network: '10.10.10.0/24', SubnetLen: 27, Backend: { Type: 'vxlan', VNI: 256 } })),
    ).toBeUndefined();
    for (const other of [
      { Network: '10.99.0.0/16', SubnetLen: 27, Backend: { Type: 'vxlan', VNI: 256 } },
      { Network: '10.10.10.0/24', SubnetLen: 27, Backend: { Type: 'vxlan', VNI: 256, Learning: true } },
      { Network: '10.10.10.0/24', SubnetLen: 27, Backend: { Type: 'vxlan', VNI: 256, Port: 53 } },
      { Network: '10.10.10.0/24', SubnetLen: 28, Backend: { Type: 'vxlan', VNI: 256 } },
    ])
      expect(configProblem(RED, JSON.stringify(other))).toMatch(/^it is not the config its meta implies .*; serving the meta's$/);
    expect(configProblem(RED, 'garbage')).toMatch(/^it is not the config/);
  });
});

describe('file names from network names', () => {
  it('are built only from names that cannot leave their directory', () => {
    expect(leaseFileName('/run/weft', 'RED')).toBe('/run/weft/networks/RED.env');
    expect(conflistFileName('/etc/cni/net.d', 'a..b')).toBe('/etc/cni/net.d/weft-a..b.conflist');
    expect(networkKey('')).toBe('_default');
    for (const bad of ['../../x', '..', '.', 'a/b', 'x" ;', ''])
      for (const f of [() => leaseFileName('/run/weft', bad), () => conflistFileName('/etc/cni/net.d', bad)])
        expect(f).toThrow(/cannot be part of a file name/);
    expect(() => networkKey('../x')).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_ARGUMENT' }));
  });
});
