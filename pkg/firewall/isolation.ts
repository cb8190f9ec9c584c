/**
 * Isolation between networks: on every host, traffic forwarded from one weft network's range to another's is
 * dropped (also between two bridges of the same host), so containers on RED cannot reach BLUE unless they are
 * attached to both. One table; it hooks forward just before the usual filter priority so no accept elsewhere
 * lets such traffic through first. With fewer than two networks there is nothing to isolate: no table.
 */
import type { NftTable } from './table.ts';

export const ISOLATION_TABLE = 'weft_isolation';

export interface IsolatedRange {
  readonly name: string;
  readonly subnet: string;
}

export function isolationTable(ranges: readonly IsolatedRange[]): NftTable | undefined {
  if (ranges.length < 2) return undefined;
  const rules = ranges.map((r) => {
    const others = ranges.filter((o) => o !== r).map((o) => o.subnet);
    return `  ip saddr ${r.subnet} ip daddr { ${others.join(', ')} } drop comment "${r.name}: no traffic to other networks"`;
  });
  return {
    family: 'inet',
    name: ISOLATION_TABLE,
    body: ['chain forward {', '  type filter hook forward priority filter - 1; policy accept;', ...rules, '}'],
  };
}
