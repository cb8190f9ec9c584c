/**
 * The IPv6 half of a dual-stack lease, pure (issue 15). flannel keeps both halves under one key
 * (`10.244.1.0-24&fc00:0:0:1::-64`), so the key is chosen by the IPv4 rules (choose.ts) and its IPv6 half
 * follows: the chosen lease's own IPv6 part when it fits the config; else this host's previous IPv6 subnet
 * (the subnet file's FLANNEL_IPV6_SUBNET) when no lease holds it; else one of the first 100 free aligned
 * subnets in [IPv6SubnetMin, IPv6SubnetMax], at random, as for IPv4.
 */
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { formatPrefix, overlaps, parseAddr, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import type { SubnetLease } from './lease.ts';

export type V6Choice =
  | { readonly kind: 'keep'; readonly subnet: string }
  | { readonly kind: 'create'; readonly subnet: string; readonly why: 'previous' | 'random' }
  | { readonly kind: 'exhausted' };

export interface V6Input {
  readonly config: FamilyConfig;
  readonly leases: readonly SubnetLease[];
  /** The lease the IPv4 rules chose (undefined: a new key is made). */
  readonly chosen?: SubnetLease | undefined;
  readonly previous?: string | undefined;
  readonly exclude?: ReadonlySet<string>;
  readonly random?: () => number;
}

const CANDIDATES = 100;

const prefix6 = (cidr: string | undefined): Prefix | undefined => {
  if (cidr === undefined) return undefined;
  const p = parsePrefix(cidr);
  return p.ok && p.value.family === 6 ? p.value : undefined;
};

/** Whether an IPv6 subnet is one this config could hand out. */
export function fitsConfig6(config: FamilyConfig, cidr: string): boolean {
  const p = prefix6(cidr);
  const min = parseAddr(config.subnetMin)?.ip;
  const max = parseAddr(config.subnetMax)?.ip;
  return !!p && min !== undefined && max !== undefined && p.prefix === config.subnetLen && p.ip >= min && p.ip <= max;
}

export function chooseIPv6Part(input: V6Input): V6Choice {
  const { config, leases } = input;
  const own = input.chosen?.ipv6Subnet;
  if (own !== undefined && fitsConfig6(config, own)) return { kind: 'keep', subnet: formatPrefix(prefix6(own)!) };
  const taken = leases.filter((l) => l !== input.chosen).flatMap((l) => prefix6(l.ipv6Subnet) ?? []);
  const exclude = input.exclude ?? new Set<string>();
  const free = (p: Prefix) => !exclude.has(formatPrefix(p)) && !taken.some((t) => overlaps(t, p));
  const prev = prefix6(input.previous);
  if (prev && input.previous !== undefined && fitsConfig6(config, input.previous) && free(prev))
    return { kind: 'create', subnet: formatPrefix(prev), why: 'previous' };
  const size = 1n << BigInt(128 - config.subnetLen);
  const found: string[] = [];
  const max = parseAddr(config.subnetMax)!.ip;
  for (let ip = parseAddr(config.subnetMin)!.ip; ip <= max && found.length < CANDIDATES; ip += size) {
    const p: Prefix = { family: 6, ip, prefix: config.subnetLen };
    if (free(p)) found.push(formatPrefix(p));
  }
  if (found.length === 0) return { kind: 'exhausted' };
  return { kind: 'create', subnet: found[Math.floor((input.random ?? Math.random)() * found.length)] ?? found[0]!, why: 'random' };
}
