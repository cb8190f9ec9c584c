import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsIP, formatPrefix, lastOf, networkOf, nth, overlaps, parseAddr, parseNetwork, parsePrefix, sizeOf } from './cidr.ts';

const must = <T>(r: { ok: true; value: T } | { ok: false; reason: string }): T => {
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

describe('parsePrefix()', () => {
  it('keeps host bits and canonicalises the address', () => {
    expect(formatPrefix(must(parsePrefix('10.1.2.5/24')))).toBe('10.1.2.5/24');
    expect(formatPrefix(must(parsePrefix('FD00:0::1/64')))).toBe('fd00::1/64');
  });

  it('refuses bad lengths and bad addresses with a reason that quotes the input', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0/8', 'fd00::/129', '/8', '10.0.0.0/']) {
      const r = parsePrefix(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.reason).toContain(bad);
    }
  });
});

describe('parseNetwork()', () => {
  it('rejects host bits and names the network meant', () => {
    const r = parseNetwork('10.5.3.7/16');
    expect(r).toEqual({ ok: false, reason: 'subnet 10.5.3.7/16 has host bits set; did you mean 10.5.0.0/16?' });
  });

  it('accepts aligned networks of both families', () => {
    expect(must(parseNetwork('10.244.0.0/16')).prefix).toBe(16);
    expect(must(parseNetwork('fc00::/48')).family).toBe(6);
  });
});

describe('prefix arithmetic', () => {
  it('sizeOf, nth and lastOf describe a /24', () => {
    const p = must(parsePrefix('10.1.2.0/24'));
    expect(sizeOf(p)).toBe(256n);
    expect(nth(p, 1n)).toBe(parseAddr('10.1.2.1')!.ip);
    expect(lastOf(p)).toBe(parseAddr('10.1.2.255')!.ip);
  });

  it('overlaps() is symmetric and true exactly when one contains the other', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(32), fc.nat(0xffffffff), fc.nat(32), (a, la, b, lb) => {
        const pa = networkOf({ family: 4, ip: BigInt(a), prefix: la });
        const pb = networkOf({ family: 4, ip: BigInt(b), prefix: lb });
        const expected = containsIP(pa, 4, pb.ip) || containsIP(pb, 4, pa.ip);
        expect(overlaps(pa, pb)).toBe(expected);
        expect(overlaps(pb, pa)).toBe(expected);
      }),
    );
  });

  it('containsIP() never mixes families', () => {
    const v6 = must(parsePrefix('::/0'));
    expect(containsIP(v6, 4, 0n)).toBe(false);
  });
});
