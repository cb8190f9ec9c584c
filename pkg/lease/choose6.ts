/**
 * The IPv6 half of a new dual-stack key, pure (issue 15). flannel keeps both halves under one key
 * (`10.244.1.0-24&fc00:0:0:1::-64`), so the key is chosen by the IPv4 rules (choose.ts: an existing key is
 * reused only when its IPv6 part fits) and, when a key is made, its IPv6 half is this host's previous IPv6
 * subnet (the subnet file's FLANNEL_IPV6_SUBNET) when no lease holds it, else one of the first 100 free
 * aligned subnets in [IPv6SubnetMin, IPv6SubnetMax], at random, as for IPv4 (choose.ts's pickFree).
 */
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { formatPrefix, overlaps, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import { fitsConfig, pickFree } from './choose.ts';
import type { SubnetLease } from './lease.ts';

export type V6Choice =
  | { readonly kind: 'create'; readonly subnet: string; readonly why: 'previous' | 'random' }
  | { readonly kind: 'exhausted' };

export interface V6Input {
  readonly config: FamilyConfig;
  /** Every lease that stays (this host's own that no longer fit are left out: they are deleted). */
  readonly leases: readonly SubnetLease[];
  readonly previous?: string | undefined;
  readonly exclude?: ReadonlySet<string>;
  readonly random?: (() => number) | undefined;
}

const prefix6 = (cidr: string | undefined): Prefix | undefined => {
  if (cidr === undefined) return undefined;
  const p = parsePrefix(cidr);
  return p.ok && p.value.family === 6 ? p.value : undefined;
};

export function chooseIPv6Part(input: V6Input): V6Choice {
  const { config, leases } = input;
  const taken = leases.flatMap((l) => prefix6(l.ipv6Subnet) ?? []);
  const exclude = input.exclude ?? new Set<string>();
  const prev = prefix6(input.previous);
  if (prev && fitsConfig(config, input.previous!) && !exclude.has(formatPrefix(prev)) && !taken.some((t) => overlaps(t, prev)))
    return { kind: 'create', subnet: formatPrefix(prev), why: 'previous' };
  const pick = pickFree(config, taken, exclude, input.random);
  return pick === undefined ? { kind: 'exhausted' } : { kind: 'create', subnet: pick, why: 'random' };
}
