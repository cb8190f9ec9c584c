/**
 * Lease keys under `<prefix>/subnets/`: `10.244.1.0-24`, or dual-stack `10.244.1.0-24&fc00:0:0:1::-64` with the
 * IPv6 part in Go's canonical text (flannel pkg/subnet MakeSubnetKey/ParseSubnetKey). The reader is strict
 * (flannel's pattern is anchored only at the end): a key that is not exactly this shape, or whose address has
 * host bits set, is not a lease and is skipped.
 */
import { formatPrefix, networkOf, parsePrefix } from '../pkg/netaddr/cidr.ts';
import type { Family } from '../pkg/netaddr/family.ts';

export interface SubnetKey {
  /** IPv4 subnet, canonical CIDR. */
  readonly ipv4: string;
  readonly ipv6: string | undefined;
}

const KEY = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,2})(?:&([0-9a-f:]+)-(\d{1,3}))?$/;

function canonical(addr: string, len: string, family: Family): string | undefined {
  const p = parsePrefix(`${addr}/${len}`);
  if (!p.ok || p.value.family !== family) return undefined;
  const text = formatPrefix(p.value);
  return text === formatPrefix(networkOf(p.value)) && text === `${addr}/${len}` ? text : undefined;
}

export function parseSubnetKey(key: string): SubnetKey | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const ipv4 = canonical(m[1]!, m[2]!, 4);
  if (!ipv4) return undefined;
  if (m[3] === undefined) return { ipv4, ipv6: undefined };
  const ipv6 = canonical(m[3], m[4]!, 6);
  return ipv6 ? { ipv4, ipv6 } : undefined;
}

export function makeSubnetKey(ipv4: string, ipv6?: string): string {
  const v4 = ipv4.replace('/', '-');
  return ipv6 === undefined ? v4 : `${v4}&${ipv6.replace('/', '-')}`;
}
