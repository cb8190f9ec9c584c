import { describe, expect, it } from 'vitest';
import { vxlanTable } from './underlay.ts';

describe('vxlanTable()', () => {
  it('drops datagrams to every VTEP port from any address but the peers’ public addresses, per family', () => {
    const t = vxlanTable({ ports: [0, 8472, 4789], peers: ['192.0.2.2', '2001:db8:0:0::2', '192.0.2.3', '192.0.2.2'] })!;
    expect(t).toMatchObject({ family: 'inet', name: 'weft_vxlan' });
    expect(t.body).toEqual([
      'set peers4 { type ipv4_addr; elements = { 192.0.2.2, 192.0.2.3 } }',
      'set peers6 { type ipv6_addr; elements = { 2001:db8::2 } }',
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      '  udp dport { 4789, 8472 } ip saddr != @peers4 drop comment "VXLAN only from hosts that hold a lease"',
      '  udp dport { 4789, 8472 } ip6 saddr != @peers6 drop comment "VXLAN only from hosts that hold a lease"',
      '}',
    ]);
  });

  it('with no peer drops all VXLAN; with no VTEP makes no table; leaves out what does not parse', () => {
    expect(vxlanTable({ ports: [8472], peers: [] })!.body[0]).toBe('set peers4 { type ipv4_addr; }');
    expect(vxlanTable({ ports: [], peers: ['192.0.2.2'] })).toBeUndefined();
    expect(vxlanTable({ ports: [8472], peers: ['192.0.2.2 } accept', 'x'] })!.body[0]).toBe('set peers4 { type ipv4_addr; }');
  });
});
