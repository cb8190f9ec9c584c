/**
 * When two keys claim one subnet, pure (issue 24). A key has up to two halves, an IPv4 and an IPv6 subnet
 * (`10.10.20.224-27&fd00:10:20:0:42::-80`), and etcd's compare-and-create guards whole keys, not halves: two
 * keys sharing a half are two keys. weft's own creations cannot collide (the keeper creates only if nothing
 * under the subnets prefix changed since the listing it chose from), but a flanneld, a hand-written key or a
 * key from before that rule can. Then the earlier creation wins, everywhere alike: the keeper does not reuse
 * or take back a key whose half an earlier key holds, and every host programs only the earliest claimant of
 * a range, reporting the others as conflicts (never skipping them silently).
 */
import { lastOf, networkOf, overlaps, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import { NO_IPV4_SUBNET, type SubnetLease } from './lease.ts';

/** What a conflict check needs of a lease: its halves and when its key was created. */
export type Claim = Pick<SubnetLease, 'key' | 'subnet' | 'ipv6Subnet' | 'createRevision'>;

/** A key's halves as prefixes; the empty IPv4 half of an IPv6-only network's keys claims nothing. */
export function halvesOf(l: Pick<Claim, 'subnet' | 'ipv6Subnet'>): Prefix[] {
  const out: Prefix[] = [];
  for (const cidr of [l.subnet, l.ipv6Subnet]) {
    if (cidr === undefined || cidr === NO_IPV4_SUBNET) continue;
    const p = parsePrefix(cidr);
    if (p.ok) out.push(p.value);
  }
  return out;
}

/** Whether two keys claim overlapping addresses in either family. */
export function sharesHalf(a: Pick<Claim, 'subnet' | 'ipv6Subnet'>, b: Pick<Claim, 'subnet' | 'ipv6Subnet'>): boolean {
  const hb = halvesOf(b);
  return halvesOf(a).some((x) => hb.some((y) => overlaps(x, y)));
}

/** Creation order: by create revision, an unknown one ("0" or missing) first, then by key so the order is total. */
export function createdBefore(a: Claim, b: Claim): boolean {
  const ra = BigInt(a.createRevision ?? '0');
  const rb = BigInt(b.createRevision ?? '0');
  return ra !== rb ? ra < rb : a.key < b.key;
}

/** The earliest other key sharing a half with `l` and created before it: `l` gives way to it. */
export function rivalOf<T extends Claim>(l: Claim, all: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const o of all) {
    if (o.key === l.key || !createdBefore(o, l) || !sharesHalf(o, l)) continue;
    if (!best || createdBefore(o, best)) best = o;
  }
  return best;
}

export interface Screened<T> {
  /** The leases a host programs: no two share a half, and none shares one with this host's own. */
  readonly kept: T[];
  /** The others, each with the key it gives way to. */
  readonly conflicts: Array<{ readonly lease: T; readonly with: string }>;
}

/**
 * Peers as a host programs them: one that shares a half with this host's own lease is left out (this host's
 * routes stay on its own bridge), and of peers sharing a half with each other only the earliest is kept.
 * A sweep over the halves sorted by first address finds the few keys that overlap anything, so thousands of
 * peers cost a sort, not every pair.
 */
export function screenPeers<T extends Claim>(own: Claim | undefined, peers: Iterable<T>): Screened<T> {
  const all = [...peers];
  const suspects = overlapping([...all, ...(own ? [own] : [])]);
  const kept: T[] = all.filter((p) => !suspects.has(p));
  const conflicts: Array<{ lease: T; with: string }> = [];
  const contested = all.filter((p) => suspects.has(p)).sort((a, b) => (createdBefore(a, b) ? -1 : 1));
  const winners: Claim[] = [];
  for (const p of contested) {
    if (own && sharesHalf(p, own)) {
      conflicts.push({ lease: p, with: own.key });
      continue;
    }
    const earlier = winners.find((k) => sharesHalf(k, p));
    if (earlier) conflicts.push({ lease: p, with: earlier.key });
    else winners.push(p);
  }
  kept.push(...(winners as T[]));
  return { kept, conflicts };
}

/** The claims with a half that overlaps another claim's half. */
function overlapping(claims: readonly Claim[]): Set<Claim> {
  const spans = claims.flatMap((c) => halvesOf(c).map((h) => ({ c, family: h.family, first: networkOf(h).ip, last: lastOf(h) })));
  spans.sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out = new Set<Claim>();
  let group: typeof spans = [];
  let end = -1n;
  const close = () => {
    if (new Set(group.map((s) => s.c)).size > 1) for (const s of group) out.add(s.c);
  };
  for (const s of spans) {
    if (group.length > 0 && (s.family !== group[0]!.family || s.first > end)) {
      close();
      group = [];
      end = -1n;
    }
    group.push(s);
    if (s.last > end) end = s.last;
  }
  close();
  return out;
}
