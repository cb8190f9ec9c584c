/**
 * subnet.env, the host's lease as flanneld writes it (pkg/subnet WriteSubnetFile) and flannel's CNI plugin
 * reads it (loadFlannelSubnetEnv). Exact order, `KEY=value` lines, no quotes:
 *
 *   FLANNEL_NETWORK=10.244.0.0/16        cluster network(s); a comma list is tolerated
 *   FLANNEL_SUBNET=10.244.1.1/24         the host's subnet with its first address (the bridge gateway)
 *   FLANNEL_IPV6_NETWORK=fc00::/48       optional
 *   FLANNEL_IPV6_SUBNET=fc00:0:0:1::1/64 optional
 *   FLANNEL_MTU=1450
 *   FLANNEL_IPMASQ=true                  true only for the exact text "true"
 *
 * weft may add its own `WEFT_*` keys after these; flannel's readers skip keys they do not know.
 */
import { formatPrefix, networkOf, nth, parsePrefix, type Prefix } from '../pkg/netaddr/cidr.ts';
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import type { Family } from '../pkg/netaddr/family.ts';

export interface SubnetEnv {
  /** Cluster network(s), canonical network CIDRs. */
  readonly networks: readonly string[];
  /** The host's subnet as a network CIDR (FLANNEL_SUBNET with its host bits cleared). */
  readonly subnet: string | undefined;
  readonly ipv6Networks: readonly string[];
  readonly ipv6Subnet: string | undefined;
  readonly mtu: number;
  readonly ipMasq: boolean;
  /** Other keys (weft's WEFT_*), in file order. */
  readonly extra: Readonly<Record<string, string>>;
}

const KNOWN = ['FLANNEL_NETWORK', 'FLANNEL_SUBNET', 'FLANNEL_IPV6_NETWORK', 'FLANNEL_IPV6_SUBNET', 'FLANNEL_MTU', 'FLANNEL_IPMASQ'];

function prefixes(key: string, value: string | undefined, family: Family, problems: string[]): Prefix[] {
  if (value === undefined || value === '') return [];
  const out: Prefix[] = [];
  for (const part of value.split(',')) {
    const p = parsePrefix(part.trim());
    if (!p.ok) problems.push(`${key}: ${p.reason}`);
    else if (p.value.family !== family) problems.push(`${key}: "${part}" is not an IPv${family} prefix`);
    else out.push(p.value);
  }
  return out;
}

const canonical = (ps: Prefix[]) => [...new Set(ps.map((p) => formatPrefix(networkOf(p))))];

/** Parses subnet.env text; lists every missing or bad key at once. */
export function parseSubnetEnv(text: string): Result<SubnetEnv> {
  const values = new Map<string, string>();
  const extra: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq <= 0 || line.startsWith('#')) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (KNOWN.includes(key)) values.set(key, value);
    else extra[key] = value;
  }
  const problems: string[] = [];
  const networks = prefixes('FLANNEL_NETWORK', values.get('FLANNEL_NETWORK'), 4, problems);
  const subnet = prefixes('FLANNEL_SUBNET', values.get('FLANNEL_SUBNET'), 4, problems);
  const v6Networks = prefixes('FLANNEL_IPV6_NETWORK', values.get('FLANNEL_IPV6_NETWORK'), 6, problems);
  const v6Subnet = prefixes('FLANNEL_IPV6_SUBNET', values.get('FLANNEL_IPV6_SUBNET'), 6, problems);
  const missing: string[] = [];
  if (!values.has('FLANNEL_NETWORK') && !values.has('FLANNEL_IPV6_NETWORK')) missing.push('FLANNEL_NETWORK');
  if (!values.has('FLANNEL_SUBNET') && !values.has('FLANNEL_IPV6_SUBNET')) missing.push('FLANNEL_SUBNET');
  if (!values.has('FLANNEL_MTU')) missing.push('FLANNEL_MTU');
  if (!values.has('FLANNEL_IPMASQ')) missing.push('FLANNEL_IPMASQ');
  if (missing.length > 0) problems.unshift(`missing ${missing.join(', ')}`);
  const mtuText = values.get('FLANNEL_MTU');
  const mtu = Number(mtuText);
  if (mtuText !== undefined && (!/^\d+$/.test(mtuText) || mtu < 68 || mtu > 65535))
    problems.push(`FLANNEL_MTU: "${mtuText}" is not an MTU (68-65535)`);
  if (subnet.length > 1 || v6Subnet.length > 1) problems.push('a host has one subnet per family');
  if (problems.length > 0) return fail(problems.join('; '));
  return ok({
    networks: canonical(networks),
    subnet: subnet[0] && formatPrefix(networkOf(subnet[0])),
    ipv6Networks: canonical(v6Networks),
    ipv6Subnet: v6Subnet[0] && formatPrefix(networkOf(v6Subnet[0])),
    mtu,
    ipMasq: values.get('FLANNEL_IPMASQ') === 'true',
    extra,
  });
}

/** The first address of a network CIDR, with its prefix: what FLANNEL_SUBNET holds. */
function gatewayForm(cidr: string): string {
  const p = parsePrefix(cidr);
  if (!p.ok) throw new RangeError(p.reason);
  return formatPrefix({ ...p.value, ip: nth(p.value, 1n) });
}

/** subnet.env text, byte for byte as flanneld writes it, then weft's extra keys. */
export function formatSubnetEnv(e: SubnetEnv): string {
  const lines: string[] = [];
  if (e.networks.length > 0) lines.push(`FLANNEL_NETWORK=${e.networks.join(',')}`);
  if (e.subnet !== undefined) lines.push(`FLANNEL_SUBNET=${gatewayForm(e.subnet)}`);
  if (e.ipv6Networks.length > 0) lines.push(`FLANNEL_IPV6_NETWORK=${e.ipv6Networks.join(',')}`);
  if (e.ipv6Subnet !== undefined) lines.push(`FLANNEL_IPV6_SUBNET=${gatewayForm(e.ipv6Subnet)}`);
  lines.push(`FLANNEL_MTU=${e.mtu}`, `FLANNEL_IPMASQ=${e.ipMasq ? 'true' : 'false'}`);
  for (const [k, v] of Object.entries(e.extra)) lines.push(`${k}=${v}`);
  return `${lines.join('\n')}\n`;
}
