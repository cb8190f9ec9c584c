/**
 * An nftables table weft owns, as data: its family, name and the lines inside `table F N { ... }`. Every
 * table is replaced whole in one transaction (declare it, delete it, define it: idempotent whether or not it
 * existed), so a half-applied rule set never exists. Pure.
 *
 * A table may keep sets whose elements come and go while the table stays (`elements`: the container ports of
 * the guard, which the CNI plugin adds itself). Its text is compared without elements, and the elements are
 * added and deleted one by one: replacing the table for them would drop an element another process added
 * between the read that planned the replacement and the replacement.
 */
import { parseIP, formatIP } from '../netaddr/ip.ts';
import { canonicalMac } from '../netaddr/mac.ts';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'bridge';

/** Each set's elements (set name -> elements in nft's syntax, e.g. `"veth1" . 10.0.0.2`). */
export type NftElements = Readonly<Record<string, readonly string[]>>;

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  /** The table's contents (sets without elements, chains), one line each; empty: the table exists with nothing in it. */
  readonly body: readonly string[];
  /**
   * The elements its sets should hold, asked for when the table is compared with the kernel's, after the
   * ruleset was listed (so an element someone added before the listing is already in what this returns).
   */
  readonly elements?: () => NftElements;
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

/** nft -f input that makes the table exactly `t` (with `elements`, when given: they are not part of `t`'s identity). */
export function replaceScript(t: NftTable, elements: NftElements = {}): string {
  const head = `table ${t.family} ${t.name}`;
  return [`${head} {}`, `delete ${head}`, `${head} {`, ...t.body.map((l) => `  ${l}`), '}', addElements(t, elements)].join('\n');
}

function addElements(t: Pick<NftTable, 'family' | 'name'>, elements: NftElements, verb: 'add' | 'delete' = 'add'): string {
  return Object.entries(elements)
    .filter(([, es]) => es.length > 0)
    .map(([set, es]) => `${verb} element ${t.family} ${t.name} ${set} { ${es.join(', ')} }\n`)
    .join('');
}

/** A listed table's text without its sets' elements: what a table with `elements` is compared by. */
export function withoutElements(tableText: string): string {
  return tableText.replace(/\n\t*elements = \{[^}]*\}/g, '');
}

/**
 * One element's canonical text, to compare ours with nft's printing of it (`fd00::2` for `fd00:0:0::2`,
 * ...); itself valid nft syntax (names stay quoted), so an extra element is deleted by it.
 */
export function canonicalElement(e: string): string {
  return e
    .split(' . ')
    .map((raw) => {
      const t = raw.trim().replace(/^"(.*)"$/, '$1');
      const ip = parseIP(t);
      if (ip) return formatIP(ip);
      if (/^0x[0-9a-fA-F]+$/.test(t)) return `0x${BigInt(t).toString(16)}`;
      return canonicalMac(t) ?? JSON.stringify(t);
    })
    .join(' . ');
}

/** The elements of each set of a listed table, canonical (canonicalElement). */
export function listedElements(tableText: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of tableText.matchAll(/\n\tset (\S+) \{([\s\S]*?)\n\t\}/g)) {
    const body = /elements = \{([^}]*)\}/.exec(m[2]!)?.[1] ?? '';
    const es = body
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    out.set(m[1]!, new Set(es.map(canonicalElement)));
  }
  return out;
}

/**
 * nft -f input that makes a listed table's sets hold `want`: what is missing added, what is extra deleted;
 * empty when they hold it already. Only sets named in `want` are touched.
 */
export function elementsScript(t: Pick<NftTable, 'family' | 'name'>, tableText: string, want: NftElements): string {
  const have = listedElements(tableText);
  const add: Record<string, string[]> = {};
  const del: Record<string, string[]> = {};
  for (const [set, es] of Object.entries(want)) {
    const now = have.get(set) ?? new Set<string>();
    const wanted = new Map(es.map((e) => [canonicalElement(e), e]));
    add[set] = [...wanted].filter(([c]) => !now.has(c)).map(([, e]) => e);
    del[set] = [...now].filter((c) => !wanted.has(c));
  }
  return addElements(t, del, 'delete') + addElements(t, add);
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
