/**
 * Isolation between networks: on every host, traffic forwarded from one weft network's range to another's is
 * dropped (also between two bridges of the same host), so containers on RED cannot reach BLUE unless they are
 * attached to both. One table; it hooks forward just before the usual filter priority so no accept elsewhere
 * lets such traffic through first. With fewer than two networks there is nothing to isolate: no table.
 */
import type { NftTable } from './table.ts';
import { nftCidr, nftCommentText } from './values.ts';

export const ISOLATION_TABLE = 'weft_isolation';

export interface IsolatedRange {
  readonly name: string;
  readonly subnet: string;
}

const familyOf = (cidr: string): 'ip' | 'ip6' => (cidr.includes(':') ? 'ip6' : 'ip');

/** The table, or undefined when no range has another of its family to be kept from (IPv6 ranges by `ip6` rules). */
export function isolationTable(ranges: readonly IsolatedRange[]): NftTable | undefined {
  const rules = ranges.flatMap((r) => {
    const fam = familyOf(r.subnet);
    const others = ranges.filter((o) => o !== r && familyOf(o.subnet) === fam).map((o) => nftCidr(o.subnet));
    if (others.length === 0) return [];
    // Ranges and names come from etcd: only canonical ranges and plain names reach the script (values.ts).
    const comment = `${nftCommentText(r.name)}: no traffic to other networks`;
    return [`  ${fam} saddr ${nftCidr(r.subnet)} ${fam} daddr { ${others.join(', ')} } drop comment "${comment}"`];
  });
  if (rules.length === 0) return undefined;
  return {
    family: 'inet',
    name: ISOLATION_TABLE,
    body: ['chain forward {', '  type filter hook forward priority filter - 1; policy accept;', ...rules, '}'],
  };
}
