import { describe, expect, it } from 'vitest';
import { vxlanElements, vxlanKeys, vxlanTable } from './underlay.ts';

const SOURCES = [
  { port: 0, vni: 1, peers: ['192.0.2.2', '2001:db8:0:0::2', '192.0.2.3'] },
  { port: 4789, vni: 256, peers: ['192.0.2.2', '192.0.2.2'] },
];

describe('vxlanTable()', () => {
  it('drops datagrams to every VTEP port unless VNI and source are a peer of that network, per family', () => {
    const t = vxlanTable(SOURCES)!;
    expect(t).toMatchObject({ family: 'inet', name: 'weft_vxlan' });
    const why = 'VXLAN only from hosts with a lease on its network';
    expect(t.body).toEqual([
      'set peers4 { typeof @th,96,24 . ip saddr; }',
      'set peers6 { typeof @th,96,24 . ip6 saddr; }',
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      `  udp dport { 4789, 8472 } @th,96,24 . ip saddr != @peers4 drop comment "${why}"`,
      `  udp dport { 4789, 8472 } @th,96,24 . ip6 saddr != @peers6 drop comment "${why}"`,
      '}',
    ]);
  });

  it('with no VTEP makes no table; leaves out ports and VNIs that are none', () => {
    expect(vxlanTable([])).toBeUndefined();
    expect(vxlanTable([{ port: 8472, vni: 1.5, peers: ['192.0.2.2'] }])).toBeUndefined();
    expect(vxlanTable([{ port: 70000, vni: 1, peers: [] }])).toBeUndefined();
  });
});

describe('vxlanElements() and vxlanKeys()', () => {
  it('give each (VNI, address) pair once, the VNI as nft prints it, and as key bytes', () => {
    expect(vxlanElements(SOURCES)).toEqual({
      peers4: ['0x1 . 192.0.2.2', '0x1 . 192.0.2.3', '0x100 . 192.0.2.2'],
      peers6: ['0x1 . 2001:db8::2'],
    });
    expect(vxlanElements([{ port: 0, vni: 1, peers: ['192.0.2.2 } accept', 'x'] }])).toEqual({ peers4: [], peers6: [] });
    const keys = vxlanKeys(['0x100 . 192.0.2.2', '0x1 . 192.0.2.2 } accept', '256 . 192.0.2.2']);
    expect(keys.map((k) => [k.set, k.keys.map((b) => Buffer.from(b).toString('hex'))])).toEqual([
      ['peers4', ['00010000c0000202']],
      ['peers6', []],
    ]);
  });
});
