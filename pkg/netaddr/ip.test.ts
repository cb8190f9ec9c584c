import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIP, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.ts';

describe('parseIPv4()', () => {
  it('accepts dotted quads and round-trips them', () => {
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        const n = parseIPv4(s);
        expect(n).toBeDefined();
        expect(formatIPv4(n!)).toBe(s);
      }),
    );
  });

  it('rejects what node:net rejects, including 1.2..3, hex, exponent and leading zeros', () => {
    for (const bad of ['1.2..3', '0x10.0.0.1', '1e2.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.0.0.1', '', ' 1.2.3.4', '1.2.3.4 ']) {
      expect(parseIPv4(bad), bad).toBeUndefined();
    }
  });

  it('agrees with node:net isIPv4 on arbitrary strings', () => {
    const octetish = fc.oneof(fc.nat(300).map(String), fc.constantFrom('', '00', '01', '0x1', '1e1', ' 1', '-1'));
    fc.assert(
      fc.property(fc.array(octetish, { minLength: 1, maxLength: 6 }), (parts) => {
        const s = parts.join('.');
        expect(parseIPv4(s) !== undefined).toBe(isIPv4(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseIPv6()', () => {
  it('accepts every form fast-check generates, in agreement with node:net', () => {
    fc.assert(
      fc.property(fc.ipV6(), (s) => {
        expect(parseIPv6(s) !== undefined).toBe(isIPv6(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('formats like Go net.IP.String() (RFC 5952)', () => {
    const cases: Array<[string, string]> = [
      ['fc00:0:0:1::', 'fc00:0:0:1::'],
      ['FC00:0000:0000:0001:0000:0000:0000:0000', 'fc00:0:0:1::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['::ffff:1.2.3.4', '::ffff:102:304'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ];
    for (const [input, want] of cases) expect(formatIPv6(parseIPv6(input)!), input).toBe(want);
  });

  it('round-trips: format(parse(x)) parses back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(parseIPv6(formatIPv6(b))).toEqual(b);
        expect(isIPv6(formatIPv6(b))).toBe(true);
      }),
    );
  });

  it('rejects malformed text', () => {
    for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1%eth0', '1::2:3:4:5:6:7:8', ':1::', '1:']) {
      expect(parseIPv6(bad), bad).toBeUndefined();
    }
  });
});

describe('canonicalIP()', () => {
  it('normalises either family and refuses non-addresses', () => {
    expect(canonicalIP('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIP('FD00::0001')).toBe('fd00::1');
    expect(canonicalIP('eth0')).toBeUndefined();
  });
});
