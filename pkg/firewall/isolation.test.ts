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
});
