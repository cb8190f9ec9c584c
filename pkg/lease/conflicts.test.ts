import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rivalOf, screenPeers, sharesHalf, type Claim } from './conflicts.ts';

const claim = (key: string, subnet: string, ipv6Subnet: string | undefined, createRevision: string): Claim => ({
  key,
  subnet,
  ipv6Subnet,
  createRevision,
});

describe('lease conflicts', () => {
  it('two keys conflict when either half overlaps; the empty IPv4 half of IPv6-only keys claims nothing', () => {
    const a = claim('a', '10.10.20.224/27', 'fd00:10:20:0:42::/80', '5');
    expect(sharesHalf(a, claim('b', '10.10.20.224/27', 'fd00:10:20:0:55::/80', '6'))).toBe(true);
    expect(sharesHalf(a, claim('c', '10.10.20.192/27', 'fd00:10:20:0:42::/80', '6'))).toBe(true);
    expect(sharesHalf(a, claim('d', '10.10.20.0/24', undefined, '6'))).toBe(true);
    expect(sharesHalf(a, claim('e', '10.10.20.192/27', 'fd00:10:20:0:43::/80', '6'))).toBe(false);
    expect(sharesHalf(claim('f', '0.0.0.0/0', 'fd00:72::/64', '1'), claim('g', '0.0.0.0/0', 'fd00:72:0:1::/64', '2'))).toBe(false);
  });

  it('the earlier creation wins: a key gives way only to an older one', () => {
    const older = claim('z-older', '10.0.1.0/24', undefined, '3');
    const newer = claim('a-newer', '10.0.1.0/24', undefined, '9');
    expect(rivalOf(newer, [older, newer])).toBe(older);
    expect(rivalOf(older, [older, newer])).toBeUndefined();
  });

  it("screening leaves out peers on this host's subnet and later claimants of a peer's, and names who they give way to", () => {
    const own = claim('own', '10.0.1.0/24', undefined, '5');
    const p1 = claim('p1', '10.0.2.0/24', undefined, '4');
    const p2 = claim('p2', '10.0.2.0/24', undefined, '8');
    const p3 = claim('p3', '10.0.1.0/24', undefined, '2');
    const p4 = claim('p4', '10.0.3.0/24', undefined, '9');
    const r = screenPeers(own, [p2, p4, p3, p1]);
    expect(r.kept.map((k) => k.key).sort()).toEqual(['p1', 'p4']);
    expect(r.conflicts.map((c) => `${c.lease.key}>${c.with}`).sort()).toEqual(['p2>p1', 'p3>own']);
  });

  it('property: the kept peers share no half with each other or with this host, and every peer is kept or named', () => {
    const subnet = fc.integer({ min: 0, max: 7 }).map((i) => `10.0.${i}.0/24`);
    const wide = fc.constantFrom('10.0.0.0/22', '10.0.4.0/23');
    const six = fc.option(
      fc.integer({ min: 0, max: 5 }).map((i) => `fd00:0:0:${i}::/64`),
      { nil: undefined },
    );
    const peers = fc.uniqueArray(fc.record({ subnet: fc.oneof(subnet, subnet, wide), six, rev: fc.integer({ min: 1, max: 1000 }) }), {
      maxLength: 12,
      selector: (p) => p.rev,
    });
    fc.assert(
      fc.property(subnet, six, peers, (ownSubnet, own6, ps) => {
        const own = claim('own', ownSubnet, own6, '500');
        const all = ps.map((p, i) => claim(`k${i}`, p.subnet, p.six, String(p.rev)));
        const { kept, conflicts } = screenPeers(own, all);
        expect(kept.length + conflicts.length).toBe(all.length);
        for (const k of kept) {
          expect(sharesHalf(k, own)).toBe(false);
          for (const j of kept) if (j !== k) expect(sharesHalf(j, k)).toBe(false);
        }
        // A peer is left out only for a key that really shares a half with it.
        for (const c of conflicts) expect(sharesHalf(c.lease, c.with === 'own' ? own : all.find((a) => a.key === c.with)!)).toBe(true);
      }),
      { seed: 24, numRuns: 500 },
    );
  });
});
