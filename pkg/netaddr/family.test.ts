import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIP } from './ip.ts';
import { byFamily, familyOf, hostPrefixOf, ofFamily } from './family.ts';

describe('familyOf()', () => {
  it('agrees with the parser on every valid address, and on prefixes', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => familyOf(s) === parseIP(s)!.family));
    expect([familyOf('10.1.0.0/16'), familyOf('fd00::/64'), familyOf('::ffff:10.0.0.1')]).toEqual([4, 6, 6]);
  });
});

describe('per-family helpers', () => {
  it('byFamily() takes the first of each family; an IPv6-only list has only 6', () => {
    expect(byFamily(['10.0.0.2/24', 'fd00::2/64', '10.0.0.3/24'])).toEqual({ 4: '10.0.0.2/24', 6: 'fd00::2/64' });
    expect(byFamily(['fd00::2'])).toEqual({ 6: 'fd00::2' });
  });

  it('ofFamily() keeps the order; hostPrefixOf() gives /32 or /128', () => {
    expect(ofFamily(['fd00::/64', '10.0.0.0/8', 'fd01::/64'], 6)).toEqual(['fd00::/64', 'fd01::/64']);
    expect([hostPrefixOf('10.0.0.1'), hostPrefixOf('fd00::1')]).toEqual(['10.0.0.1/32', 'fd00::1/128']);
  });
});
