import { describe, expect, it } from 'vitest';
import { vxlanTable } from './underlay.ts';

describe('vxlanTable()', () => {
  it('drops datagrams to every VTEP port unless VNI and source are a peer of that network, per family', () => {
    const t = vxlanTable([
      { port: 0, vni: 1, peers: ['192.0.2.2', '2001:db8:0:0::2', '192.0.2.3'] },
      { port: 4789, vni: 256, peers: ['192.0.2.2', '192.0.2.2'] },
    ])!;
    expect(t).toMatchObject({ family: 'inet', name: 'weft_vxlan' });
    const why = 'VXLAN only from hosts with a lease on its network';
    expect(t.body).toEqual([
      'set peers4 { typeof @th,96,24 . ip saddr; elements = { 1 . 192.0.2.2, 1 . 192.0.2.3, 256 . 192.0.2.2 } }',
      'set peers6 { typeof @th,96,24 . ip6 saddr; elements = { 1 . 2001:db8::2 } }',
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      `  udp dport { 4789, 8472 } @th,96,24 . ip saddr != @peers4 drop comment "${why}"`,
      `  udp dport { 4789, 8472 } @th,96,24 . ip6 saddr != @peers6 drop comment "${why}"`,
      '}',
    ]);
  });

  it('with no peer drops all VXLAN; with no VTEP makes no table; leaves out what does not parse', () => {
    expect(vxlanTable([{ port: 8472, vni: 1, peers: [] }])!.body[0]).toBe('set peers4 { typeof @th,96,24 . ip saddr; }');
    expect(vxlanTable([])).toBeUndefined();
    expect(vxlanTable([{ port: 8472, vni: 1, peers: ['192.0.2.2 } accept', 'x'] }])!.body[0]).toBe(
      'set peers4 { typeof @th,96,24 . ip saddr; }',
    );
    expect(vxlanTable([{ port: 8472, vni: 1.5, peers: ['192.0.2.2'] }])).toBeUndefined();
  });
});
