import { describe, expect, it } from 'vitest';
import { isolationTable } from './isolation.ts';

describe('isolationTable()', () => {
  it('drops traffic between every two ranges of a family, IPv6 ones by ip6 rules (issue 15)', () => {
    const t = isolationTable([
      { name: 'RED', subnet: '10.10.10.0/24' },
      { name: 'BLUE', subnet: '10.10.20.0/24' },
      { name: 'RED', subnet: 'fd00:70::/48' },
      { name: 'BLUE', subnet: 'fd00:71::/48' },
    ])!;
    expect(t.body.slice(2, -1)).toEqual([
      '  ip saddr 10.10.10.0/24 ip daddr { 10.10.20.0/24 } drop comment "RED: no traffic to other networks"',
      '  ip saddr 10.10.20.0/24 ip daddr { 10.10.10.0/24 } drop comment "BLUE: no traffic to other networks"',
      '  ip6 saddr fd00:70::/48 ip6 daddr { fd00:71::/48 } drop comment "RED: no traffic to other networks"',
      '  ip6 saddr fd00:71::/48 ip6 daddr { fd00:70::/48 } drop comment "BLUE: no traffic to other networks"',
    ]);
  });

  it('makes no table while no range has another of its family', () => {
    expect(isolationTable([{ name: 'RED', subnet: '10.10.10.0/24' }])).toBeUndefined();
    expect(
      isolationTable([
        { name: 'RED', subnet: '10.10.10.0/24' },
        { name: 'V6', subnet: 'fd00::/48' },
      ]),
    ).toBeUndefined();
  });

  it('drops what comes in on a network’s bridge or VTEP and would leave through another network’s, whatever its address (issue 25)', () => {
    const t = isolationTable(
      [
        { name: 'RED', subnet: '10.10.10.0/24' },
        { name: 'default', subnet: '10.244.0.0/16' },
      ],
      [
        { name: 'RED', devices: ['w-RED', 'weft.256'] },
        { name: 'default', devices: ['cni0', 'flannel.1', 'flannel-v6.1'] },
      ],
    )!;
    const why = "nothing from its bridge or VTEP to another network's";
    expect(t.body.slice(2, 4)).toEqual([
      `  iifname { "w-RED", "weft.256" } oifname { "cni0", "flannel.1", "flannel-v6.1" } drop comment "RED: ${why}"`,
      `  iifname { "cni0", "flannel.1", "flannel-v6.1" } oifname { "w-RED", "weft.256" } drop comment "default: ${why}"`,
    ]);
  });

  it('throws rather than put a device name into nft that is not a plain interface name (issue 25)', () => {
    const red = { name: 'RED', devices: ['w-RED'] };
    expect(() => isolationTable([], [red, { name: 'GREEN', devices: ['weft.1" } accept'] }])).toThrow(/not an interface name/);
    expect(() => isolationTable([], [red, { name: 'x" accept; #', devices: ['w-x'] }])).toThrow(/cannot be an nft comment/);
  });
});
