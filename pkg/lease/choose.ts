/**
 * Which subnet this host should hold, pure. flanneld (LocalManager.tryAcquireLease) takes the first lease
 * carrying its PublicIP, then the previous subnet file's subnet, then a random free one. weft changes the
 * order where flanneld's can renumber a host under its running pods (issue 11: a stale or forged key with
 * this host's PublicIP, sorting first, moved a host to another subnet on restart):
 *
 *   1. the lease carrying this host's PublicIP whose subnet is the previous subnet file's;
 *   2. else the previous subnet, if no lease holds it (this host's pods are numbered from it);
 *   3. else, when pods are running on the previous subnet (`pinned`) and another host holds it: nothing. The
 *      host waits, not ready, and says who holds it: renumbering live pods is not a decision weft takes;
 *   4. else the first lease (by key) carrying this host's PublicIP that fits the config;
 *   5. else one of the first 100 free aligned subnets in [SubnetMin, SubnetMax], picked at random so that
 *      hosts starting together rarely collide (the compare-and-create loses for one of them, which then asks
 *      again with that subnet excluded).
 *
 * Other leases carrying this host's PublicIP are reported as ignored, with why, for the caller to log;
 * leases with its PublicIP that no longer fit the config are returned for the caller to delete, as flanneld
 * does (the config changed: the operator renumbered the network). In a dual-stack network a lease fits only
 * with an IPv6 part that fits too, and in an IPv4-only one only without: flannel's rule, so turning IPv6 on
 * gives a host a new dual-stack key for the same IPv4 subnet (the old key is not counted as taken, being
 * deleted first). The IPv6 part of a new key is choose6.ts's.
 *
 * A lease of this host's that shares a half with a key created before it (conflicts.ts) is not reused: it is
 * returned for the caller to delete (the earlier creation wins), and its subnet counts as the other key's.
 */
import { formatPrefix, parseAddr, parsePrefix, overlaps, type Prefix } from '../netaddr/cidr.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { rivalOf } from './conflicts.ts';
import { isReservation, type SubnetLease } from './lease.ts';
import { bitsOf, familyOf } from '../netaddr/family.ts';

export type Choice =
  | { readonly kind: 'reuse'; readonly lease: SubnetLease; readonly why: 'previous' | 'public-ip' }
  | { readonly kind: 'create'; readonly subnet: string; readonly why: 'previous' | 'random' }
  | { readonly kind: 'held-elsewhere'; readonly subnet: string; readonly holder: SubnetLease }
  | { readonly kind: 'exhausted' };

export interface ChooseInput {
  /** The range the key's subnet is chosen from, of the key family: an IPv6-only network's is its IPv6 range. */
  readonly config: FamilyConfig;
  /** The network's IPv6 half, when it is dual-stack (never for an IPv6-only network: that is `config`). */
  readonly config6?: FamilyConfig | undefined;
  readonly leases: readonly SubnetLease[];
  readonly publicIP: string;
  readonly previousSubnet?: string | undefined;
  /** Containers are attached on this host with addresses from `previousSubnet`. */
  readonly pinned?: boolean;
  /** Subnets lost to another host in this round. */
  readonly exclude?: ReadonlySet<string>;
  readonly random?: (() => number) | undefined;
}

export interface ChooseResult {
  readonly choice: Choice;
  /** Leases with this PublicIP that no longer fit the config: delete them. */
  readonly incompatible: SubnetLease[];
  /** Leases with this PublicIP that share a half with an earlier key (`to`): delete them (reservations stay). */
  readonly giveWay: Array<{ readonly lease: SubnetLease; readonly to: SubnetLease }>;
  /** Other leases with this PublicIP that were not taken, and why: log them. */
  readonly ignored: Array<{ readonly lease: SubnetLease; readonly why: string }>;
  /** Every lease that stays once the incompatible ones (not reservations) are deleted: what a new key must not overlap. */
  readonly kept: SubnetLease[];
}

const CANDIDATES = 100;

function prefix(cidr: string): Prefix | undefined {
  const p = parsePrefix(cidr);
  return p.ok ? p.value : undefined;
}

/** Whether a subnet is one this config could hand out (of its family, length and [SubnetMin, SubnetMax]). */
export function fitsConfig(config: FamilyConfig, cidr: string): boolean {
  const p = prefix(cidr);
  const min = parseAddr(config.subnetMin)!.ip;
  const max = parseAddr(config.subnetMax)!.ip;
  return !!p && p.family === familyOf(config.network) && p.prefix === config.subnetLen && p.ip >= min && p.ip <= max;
}

/**
 * The first free aligned subnets in [SubnetMin, SubnetMax] (at most 100), skipping those that overlap a taken
 * one or are excluded, and one of them at random: hosts starting together rarely pick the same.
 */
export function pickFree(
  config: FamilyConfig,
  taken: readonly Prefix[],
  exclude: ReadonlySet<string>,
  random: () => number = Math.random,
): string | undefined {
  const family = familyOf(config.network);

  const free = (p: Prefix) => !exclude.has(formatPrefix(p)) && !taken.some((t) => overlaps(t, p));
  const size = 1n << BigInt(bitsOf(family) - config.subnetLen);
  const found: string[] = [];
  const max = parseAddr(config.subnetMax)!.ip;
  for (let ip = parseAddr(config.subnetMin)!.ip; ip <= max && found.length < CANDIDATES; ip += size) {
    const p: Prefix = { family, ip, prefix: config.subnetLen };
    if (free(p)) found.push(formatPrefix(p));
  }
  return found.length === 0 ? undefined : (found[Math.floor(random() * found.length)] ?? found[0]!);
}

/** Whether a lease fits the network: its IPv4 subnet, and an IPv6 part exactly when the network is dual-stack. */
export function leaseFits(config: FamilyConfig, config6: FamilyConfig | undefined, l: SubnetLease): boolean {
  const v6 = config6 ? l.ipv6Subnet !== undefined && fitsConfig(config6, l.ipv6Subnet) : l.ipv6Subnet === undefined;
  return v6 && fitsConfig(config, l.subnet);
}

export function chooseSubnet(input: ChooseInput): ChooseResult {
  const { config, publicIP } = input;
  const mine = input.leases.filter((l) => l.attrs.publicIP === publicIP).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const prevPrefix = input.previousSubnet !== undefined ? prefix(input.previousSubnet) : undefined;
  const previous = prevPrefix && fitsConfig(config, input.previousSubnet!) ? formatPrefix(prevPrefix) : undefined;
  const incompatible = mine.filter((l) => !leaseFits(config, input.config6, l));
  const giveWay = mine.flatMap((lease) => {
    const to = leaseFits(config, input.config6, lease) ? rivalOf(lease, input.leases) : undefined;
    return to ? [{ lease, to }] : [];
  });
  const fitting = mine.filter((l) => leaseFits(config, input.config6, l) && !giveWay.some((g) => g.lease === l));
  // This host's leases that no longer fit or give way are deleted before anything is created (reservations are
  // not): not taken.
  const deleted = (l: SubnetLease) => !isReservation(l) && (incompatible.includes(l) || giveWay.some((g) => g.lease === l));
  const leases = input.leases.filter((l) => !deleted(l));
  const ignoring = (taken: SubnetLease | undefined, why: string) => fitting.filter((l) => l !== taken).map((lease) => ({ lease, why }));
  const result = (choice: Choice, taken?: SubnetLease, why = ''): ChooseResult => ({
    choice,
    incompatible,
    giveWay,
    ignored: why ? ignoring(taken, why) : [],
    kept: leases,
  });

  if (previous) {
    const same = fitting.find((l) => l.subnet === previous);
    if (same) return result({ kind: 'reuse', lease: same, why: 'previous' }, same, `this host's subnet file says ${previous}`);
    const taken = leases.map((l) => ({ l, p: prefix(l.subnet) })).filter((x) => x.p !== undefined);
    const holder = taken.find((x) => overlaps(x.p!, prevPrefix!))?.l;
    if (!holder && !input.exclude?.has(previous))
      return result({ kind: 'create', subnet: previous, why: 'previous' }, undefined, `this host's subnet file says ${previous}`);
    if (holder && input.pinned) {
      return result({ kind: 'held-elsewhere', subnet: previous, holder }, undefined, `this host's pods are numbered from ${previous}`);
    }
  }
  const first = fitting[0];
  if (first) return result({ kind: 'reuse', lease: first, why: 'public-ip' }, first, `${first.key} was taken (the first by key)`);

  const taken = leases.map((l) => prefix(l.subnet)).filter((p): p is Prefix => p !== undefined);
  const pick = pickFree(config, taken, input.exclude ?? new Set(), input.random);
  return result(pick === undefined ? { kind: 'exhausted' } : { kind: 'create', subnet: pick, why: 'random' });
}
