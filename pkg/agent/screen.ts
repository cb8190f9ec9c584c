/**
 * Which peers' leases a host programs, pure. A lease is text anyone with the network's etcd credentials can
 * write, and it becomes routes, neighbours and FDB entries as root (issue 25: a key `192.0.2.100-32` made the
 * etcd server's address a peer route, and the host lost etcd). So a lease is programmed only when:
 *
 *   - each subnet it claims lies inside the network's range of that family (at least as long as the range);
 *   - none of them overlaps the underlay's subnets, this host's own addresses or the etcd endpoints;
 *   - its PublicIP (and PublicIPv6, when the network has an IPv6 device) is a unicast address;
 *   - it shares no half with this host's key or an earlier peer's (conflicts.ts, issue 24).
 *
 * The others are returned with the reason, for the caller to log once and report.
 */
import { containsPrefix, overlaps, parseAddr, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import { screenPeers, type SubnetLease } from '../lease/mod.ts';
import type { Families } from './families.ts';
import { bitsOf, FAMILIES, hostPrefixOf } from '../netaddr/family.ts';

export interface ScreenInput {
  readonly f: Families;
  readonly own: Pick<SubnetLease, 'key' | 'subnet' | 'ipv6Subnet' | 'createRevision'> | undefined;
  readonly peers: Iterable<SubnetLease>;
  /** Addresses and subnets no peer may claim: the underlay's subnets, this host's addresses, the etcd endpoints. */
  readonly forbidden: readonly string[];
  /**
   * The verdicts of earlier calls with the same `f` and `forbidden`, by lease (null: valid). A lease that
   * changes is a new object, so only new leases are parsed: screening every peer on every lease change made
   * convergence O(peers) in address parsing (issue 28).
   */
  readonly memo?: WeakMap<SubnetLease, string | null>;
}

export interface ScreenResult {
  readonly kept: SubnetLease[];
  /** Left out as invalid: outside the range, on a forbidden address, a non-unicast PublicIP. */
  readonly invalid: Array<{ readonly lease: SubnetLease; readonly why: string }>;
  /** Left out as sharing a half with `with` (this host's key, or an earlier peer's). */
  readonly conflicts: Array<{ readonly lease: SubnetLease; readonly with: string }>;
}

const prefixOf = (cidr: string): Prefix | undefined => {
  const p = parsePrefix(cidr);
  return p.ok ? p.value : undefined;
};

/** Why `ip` cannot be a peer's VTEP address, or undefined when it is a unicast address. */
export function notUnicast(ip: string | undefined): string | undefined {
  const a = ip === undefined ? undefined : parseAddr(ip);
  if (!a) return `"${ip ?? ''}" is not an address`;
  const inAny = (nets: readonly string[]) =>
    nets.some((n) => containsPrefix(prefixOf(n)!, { family: a.family, ip: a.ip, prefix: bitsOf(a.family) }));

  const special = a.family === 4 ? ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4'] : ['::/127', 'ff00::/8', '::ffff:0:0/96'];
  return inAny(special) ? `${ip} is not a unicast address` : undefined;
}

/** Why a lease's subnets or addresses may not be programmed, or undefined. */
function invalidity(f: Families, l: SubnetLease, forbidden: readonly Prefix[]): string | undefined {
  // The key family's half is required (an IPv6-only network's key has an empty IPv4 half); a dual-stack IPv6 half may be missing.
  const claims = FAMILIES.flatMap((x): Array<[string, string]> => {
    const range = f.configs[x];
    const subnet = x === 4 ? l.subnet : l.ipv6Subnet;
    return range && (x === f.keyFamily || subnet) ? [[subnet ?? '', range.network]] : [];
  });
  for (const [cidr, range] of claims) {
    const p = prefixOf(cidr);
    const r = prefixOf(range);
    if (!p || !r || !containsPrefix(r, p)) return `its subnet ${cidr || '(none)'} is outside the network's range ${range}`;
    const hit = forbidden.find((x) => overlaps(x, p));
    if (hit) return `its subnet ${cidr} covers ${hit.family === 4 ? 'an underlay or etcd address' : 'an underlay address'} of this host`;
  }
  const bad =
    notUnicast(l.attrs.publicIP) ?? (f.six === 'device' && l.attrs.publicIPv6 !== undefined ? notUnicast(l.attrs.publicIPv6) : undefined);
  return bad ? `its PublicIP ${bad.replace(/^"?/, '')}` : undefined;
}

export function screenLeases(input: ScreenInput): ScreenResult {
  const forbidden = input.forbidden.flatMap((x) => prefixOf(x.includes('/') ? x : hostPrefixOf(x)) ?? []);

  const valid: SubnetLease[] = [];
  const invalid: ScreenResult['invalid'] = [];
  for (const l of input.peers) {
    let why = input.memo?.get(l);
    if (why === undefined) {
      why = invalidity(input.f, l, forbidden) ?? null;
      input.memo?.set(l, why);
    }
    if (why) invalid.push({ lease: l, why });
    else valid.push(l);
  }
  const { kept, conflicts } = screenPeers(input.own, valid);
  return { kept, invalid, conflicts };
}
