/**
 * Which subnet this host should hold, as flanneld decides it (LocalManager.tryAcquireLease), pure:
 *   1. the lease that already carries this host's PublicIP, if it fits the config;
 *   2. else the subnet from the previous subnet file, if no lease holds it and it fits;
 *   3. else one of the first 100 free aligned subnets in [SubnetMin, SubnetMax], picked at random so that
 *      hosts starting together rarely collide (and when they do, the compare-and-create loses for one of
 *      them, which then asks again with that subnet excluded).
 * Leases with this host's PublicIP that no longer fit the config (the config changed) are returned for the
 * caller to delete, as flanneld does.
 */
import { formatPrefix, parseAddr, parsePrefix, overlaps, type Prefix } from '../netaddr/cidr.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import type { SubnetLease } from './lease.ts';

export type Choice =
  | { readonly kind: 'reuse'; readonly lease: SubnetLease }
  | { readonly kind: 'create'; readonly subnet: string; readonly why: 'previous' | 'random' }
  | { readonly kind: 'exhausted' };

export interface ChooseInput {
  readonly config: FamilyConfig;
  readonly leases: readonly SubnetLease[];
  readonly publicIP: string;
  readonly previousSubnet?: string | undefined;
  /** Subnets lost to another host in this round. */
  readonly exclude?: ReadonlySet<string>;
  readonly random?: () => number;
}

const CANDIDATES = 100;

function prefix(cidr: string): Prefix | undefined {
  const p = parsePrefix(cidr);
  return p.ok ? p.value : undefined;
}

/** Whether a subnet is one this config could hand out. */
export function fitsConfig(config: FamilyConfig, cidr: string): boolean {
  const p = prefix(cidr);
  const min = parseAddr(config.subnetMin)!.ip;
  const max = parseAddr(config.subnetMax)!.ip;
  return !!p && p.family === 4 && p.prefix === config.subnetLen && p.ip >= min && p.ip <= max;
}

export function chooseSubnet(input: ChooseInput): { choice: Choice; incompatible: SubnetLease[] } {
  const { config, leases, publicIP } = input;
  const mine = leases.filter((l) => l.attrs.publicIP === publicIP).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const fitting = mine.find((l) => fitsConfig(config, l.subnet));
  const incompatible = mine.filter((l) => !fitsConfig(config, l.subnet));
  if (fitting) return { choice: { kind: 'reuse', lease: fitting }, incompatible };

  const taken = leases.map((l) => prefix(l.subnet)).filter((p): p is Prefix => p !== undefined);
  const exclude = input.exclude ?? new Set<string>();
  const free = (p: Prefix) => !exclude.has(formatPrefix(p)) && !taken.some((t) => overlaps(t, p));

  const prev = input.previousSubnet && prefix(input.previousSubnet);
  if (prev && fitsConfig(config, input.previousSubnet!) && free(prev)) {
    return { choice: { kind: 'create', subnet: formatPrefix(prev), why: 'previous' }, incompatible };
  }
  const size = 1n << BigInt(32 - config.subnetLen);
  const found: string[] = [];
  for (let ip = parseAddr(config.subnetMin)!.ip, max = parseAddr(config.subnetMax)!.ip; ip <= max && found.length < CANDIDATES; ip += size) {
    const p: Prefix = { family: 4, ip, prefix: config.subnetLen };
    if (free(p)) found.push(formatPrefix(p));
  }
  if (found.length === 0) return { choice: { kind: 'exhausted' }, incompatible };
  const pick = found[Math.floor((input.random ?? Math.random)() * found.length)] ?? found[0]!;
  return { choice: { kind: 'create', subnet: pick, why: 'random' }, incompatible };
}
