import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalMac, formatMac, parseMac, randomMac, stableMac } from './mac.ts';

describe('parseMac()', () => {
  it('accepts the 6-byte forms Go net.ParseMAC accepts and formats lowercase with colons', () => {
    expect(canonicalMac('C6:D2:32:6F:8F:44')).toBe('c6:d2:32:6f:8f:44');
    expect(canonicalMac('c6-d2-32-6f-8f-44')).toBe('c6:d2:32:6f:8f:44');
    expect(canonicalMac('c6d2.326f.8f44')).toBe('c6:d2:32:6f:8f:44');
  });

  it('rejects other shapes', () => {
    for (const bad of ['c6:d2:32:6f:8f', 'c6:d2:32:6f:8f:44:00', 'c6d2326f8f44', 'c6:d2-32:6f:8f:44', 'zz:d2:32:6f:8f:44', '']) {
      expect(parseMac(bad), bad).toBeUndefined();
    }
  });

  it('round-trips any 6 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        expect(parseMac(formatMac(b))).toEqual(b);
      }),
    );
  });
});

describe('randomMac() and stableMac()', () => {
  it('produce locally administered unicast addresses', () => {
    for (const m of [randomMac(), stableMac('host-a/1')]) {
      const first = parseMac(m)![0]!;
      expect(first & 0x01).toBe(0);
      expect(first & 0x02).toBe(2);
    }
  });

  it('stableMac() is a function of its seed', () => {
    expect(stableMac('host-a/1')).toBe(stableMac('host-a/1'));
    expect(stableMac('host-a/1')).not.toBe(stableMac('host-a/2'));
  });
});
