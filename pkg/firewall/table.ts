/**
 * An nftables table weft owns, as data: its family, name and the lines inside `table F N { ... }`. Every
 * table is replaced whole in one transaction (declare it, delete it, define it: idempotent whether or not it
 * existed), so a half-applied rule set never exists. Pure.
 */
export type NftFamily = 'ip' | 'ip6' | 'inet';

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  /** The table's contents (chains), one line each; empty: the table exists with nothing in it. */
  readonly body: readonly string[];
}

/** A chain weft owns inside a table others may share (the CNI plugin's, one per network). */
export interface NftChain {
  readonly family: NftFamily;
  readonly table: string;
  readonly name: string;
  /** The base chain's `type ... hook ... priority ...; policy ...;` line. */
  readonly type: string;
  readonly rules: readonly string[];
}

/** nft -f input that makes the chain exactly `c`, leaving the table's other chains alone. */
export function chainScript(c: NftChain): string {
  const at = `${c.family} ${c.table} ${c.name}`;
  return [
    `table ${c.family} ${c.table} {`,
    `  chain ${c.name} { ${c.type} }`,
    '}',
    `flush chain ${at}`,
    ...c.rules.map((r) => `add rule ${at} ${r}`),
    '',
  ].join('\n');
}

/** Whether a listed table (nft's text) holds the chain with every one of its rules. */
export function chainPresent(tableText: string | undefined, c: NftChain): boolean {
  const at = tableText?.indexOf(`chain ${c.name} {`) ?? -1;
  if (at < 0) return false;
  const text = tableText!.slice(at, tableText!.indexOf('\n\t}', at)).replace(/\s+/g, ' ');
  return c.rules.every((r) => text.includes(r.replace(/\s+/g, ' ')));
}

export const tableKey = (t: Pick<NftTable, 'family' | 'name'>): string => `${t.family} ${t.name}`;

/** nft -f input that makes the table exactly `t`. */
export function replaceScript(t: NftTable): string {
  const head = `table ${t.family} ${t.name}`;
  return [`${head} {}`, `delete ${head}`, `${head} {`, ...t.body.map((l) => `  ${l}`), '}', ''].join('\n');
}

/** nft -f input that removes the table if it exists. */
export function deleteScript(t: Pick<NftTable, 'family' | 'name'>): string {
  const head = `table ${t.family} ${t.name}`;
  return `${head} {}\ndelete ${head}\n`;
}

/**
 * `nft list ruleset` output split into tables, keyed "family name", each the text from its `table` line to
 * its closing brace: how the kernel holds it now, in nft's own formatting.
 */
export function splitRuleset(listing: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  let lines: string[] = [];
  for (const line of listing.split('\n')) {
    const m = /^table (\S+) (\S+) \{$/.exec(line);
    if (m) {
      key = `${m[1]} ${m[2]}`;
      lines = [line];
    } else if (key !== undefined) {
      lines.push(line);
      if (line === '}') {
        out.set(key, lines.join('\n'));
        key = undefined;
      }
    }
  }
  return out;
}
