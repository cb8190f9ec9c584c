/**
 * Issue 24's network invariants as a property: hosts create networks at once through the real NetworkStore
 * over an in-memory etcd (etcd/testing/memory-kv.ts), fast-check's scheduler choosing when each request
 * reaches etcd and when its answer returns. Whatever the order: no two networks share a name, an ID, a VNI
 * or an overlapping range (either family); every name and VNI key points at its network; a creation that
 * returned is in etcd, one that failed says why with a typed error.
 *
 * On the code before (the network list read before the generation key) a creation could validate ranges
 * against a list older than the generation it compared, and two networks took one range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/mod.ts';
import { overlaps, parsePrefix } from '../netaddr/cidr.ts';
import { decodeMeta, type NetworkMeta } from '../networks/mod.ts';
import { MemoryKv, scheduled } from './etcd/testing/memory-kv.ts';
import { NetworkStore } from './networks.ts';

const ROOT = '/p/weft';

const request = fc.record({
  name: fc.constantFrom('RED', 'BLUE', 'GREEN', 'red'),
  subnet: fc.constantFrom('10.10.10.0/24', '10.10.0.0/16', '10.20.0.0/24', '10.30.0.0/24'),
  subnet6: fc.option(fc.constantFrom('fd00:10::/64', 'fd00:10::/56', 'fd00:20::/64'), { nil: undefined }),
  vni: fc.option(fc.constantFrom(100, 101), { nil: undefined }),
});

function invariants(kv: MemoryKv): string[] {
  const metas: NetworkMeta[] = kv.dump(`${ROOT}/networks/`).flatMap((k) => {
    if (!k.key.endsWith('/meta')) return [];
    const m = decodeMeta(k.value);
    return m.ok ? [m.value] : [];
  });
  const bad: string[] = [];
  const pairs = metas.flatMap((a, i) => metas.slice(i + 1).map((b) => [a, b] as const));
  for (const [a, b] of pairs) {
    if (a.Name === b.Name) bad.push(`name ${a.Name} twice`);
    if (a.Id === b.Id) bad.push(`ID ${a.Id} twice`);
    if (a.VNI === b.VNI) bad.push(`VNI ${a.VNI} for ${a.Name} and ${b.Name}`);
    const ranges = (m: NetworkMeta) =>
      [m.Subnet, ...(m.SubnetV6 ? [m.SubnetV6] : [])].map((r) => parsePrefix(r)).flatMap((p) => (p.ok ? [p.value] : []));
    if (ranges(a).some((x) => ranges(b).some((y) => x.family === y.family && overlaps(x, y)))) bad.push(`${a.Name} and ${b.Name} overlap`);
  }
  for (const m of metas) {
    if (kv.dump(`${ROOT}/names/${m.Name}`).find((k) => k.key === `${ROOT}/names/${m.Name}`)?.value !== m.Id)
      bad.push(`names/${m.Name} is not ${m.Name}'s`);
    if (kv.dump(`${ROOT}/vnis/${m.VNI}`).find((k) => k.key === `${ROOT}/vnis/${m.VNI}`)?.value !== m.Id)
      bad.push(`vnis/${m.VNI} is not ${m.Name}'s`);
  }
  return bad;
}

describe('networks under concurrency (property)', () => {
  it('no name, ID, VNI or range twice, whatever the interleaving of creations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 2, maxLength: 6 }), fc.scheduler(), async (reqs, s) => {
        const kv = new MemoryKv();
        const violations: string[] = [];
        const gate = (label: string) =>
          s.schedule(Promise.resolve(label), label).then(() => {
            for (const v of invariants(kv)) violations.push(`after ${label}: ${v}`);
          });
        const outcomes = await s.waitFor(
          Promise.allSettled(
            reqs.map((r, i) =>
              new NetworkStore(scheduled(kv, gate, `host${i + 1}`), ROOT).create({
                name: r.name,
                subnet: r.subnet,
                vni: r.vni,
                ...(r.subnet6 && { ipv6: true, subnet6: r.subnet6 }),
              }),
            ),
          ),
        );
        expect(violations, String(s)).toEqual([]);
        const stored = kv.dump(`${ROOT}/networks/`).filter((k) => k.key.endsWith('/meta'));
        for (const o of outcomes) {
          if (o.status === 'fulfilled') expect(stored.some((k) => k.value === JSON.stringify(o.value))).toBe(true);
          else
            expect(isWeftError(o.reason) && ['WEFT_ALREADY_EXISTS', 'WEFT_INVALID_CONFIG', 'WEFT_TRY_AGAIN'].includes(o.reason.code)).toBe(
              true,
            );
        }
        // Requests that conflict with nothing all succeed: at least one creation always does.
        expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      }),
      { numRuns: 200, seed: 242_027 },
    );
  }, 120_000);
});
