/**
 * Isolation between networks: on every host, traffic forwarded from one weft network's range to another's is
 * dropped (also between two bridges of the same host), so containers on RED cannot reach BLUE unless they are
 * attached to both. One table, replaced atomically whenever the set of networks changes; it hooks forward
 * just before the usual filter priority so no accept elsewhere lets such traffic through first.
 */
import { applyNft, nft } from '../firewall/nft.ts';

export const ISOLATION_TABLE = 'weft_isolation';

export function isolationScript(ranges: ReadonlyArray<{ readonly name: string; readonly subnet: string }>): string {
  const lines = [`table inet ${ISOLATION_TABLE} {}`, `delete table inet ${ISOLATION_TABLE}`];
  if (ranges.length > 1) {
    lines.push(`table inet ${ISOLATION_TABLE} {`, '  chain forward {', '    type filter hook forward priority filter - 1; policy accept;');
    for (const r of ranges) {
      const others = ranges.filter((o) => o !== r).map((o) => o.subnet);
      lines.push(`    ip saddr ${r.subnet} ip daddr { ${others.join(', ')} } drop comment "${r.name}: no traffic to other networks"`);
    }
    lines.push('  }', '}');
  }
  return `${lines.join('\n')}\n`;
}

export function applyIsolation(ranges: ReadonlyArray<{ readonly name: string; readonly subnet: string }>): void {
  applyNft(isolationScript(ranges), 'the isolation rules between networks');
}

export function removeIsolation(): void {
  nft(['delete', 'table', 'inet', ISOLATION_TABLE]);
}
