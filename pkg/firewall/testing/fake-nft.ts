/**
 * nft as the FirewallKeeper sees it, for unit tests: scripts in (tables declared, deleted, defined; chains
 * added; set elements added and deleted), a ruleset listing out, tab-indented as nft prints it (a set over
 * several lines, its elements on one). Only an input to tests of the keeper and its owners; the real nft is
 * used by the root tests.
 */
import type { NftRunner } from '../keeper.ts';
import { canonicalElement } from '../table.ts';

export class FakeNft implements NftRunner {
  readonly tables = new Map<string, string[]>();
  /** Table key -> set name -> its elements (by value, each once, as nft keeps them). */
  readonly sets = new Map<string, Map<string, Set<string>>>();
  applies = 0;
  fail: string | undefined;

  async listRuleset(): Promise<string> {
    if (this.fail) throw new Error(this.fail);
    return [...this.tables]
      .map(([k, body]) =>
        [
          `table ${k} {`,
          ...body.flatMap((l) => {
            const set = /^set (\S+) \{ (.*); \}$/.exec(l.trim());
            if (!set) return [`\t${l.trim()}`];
            const es = [...(this.sets.get(k)?.get(set[1]!) ?? [])];
            return [
              `\tset ${set[1]} {`,
              `\t\t${set[2]}`,
              ...(es.length > 0 ? [`\t\telements = { ${es.join(',\n\t\t\t     ')} }`] : []),
              '\t}',
            ];
          }),
          '}',
        ].join('\n'),
      )
      .join('\n');
  }

  async apply(script: string): Promise<void> {
    this.applies++;
    // One transaction: nothing changes when a line fails.
    const tables = new Map(this.tables);
    const sets = new Map([...this.sets].map(([k, v]) => [k, new Map([...v].map(([n, es]) => [n, new Set(es)]))]));
    let open: { key: string; body: string[] } | undefined;
    for (const line of script.split('\n')) {
      if (open) {
        if (line === '}') {
          tables.set(open.key, open.body);
          sets.set(open.key, new Map());
          open = undefined;
        } else open.body.push(line);
        continue;
      }
      const declare = /^table (\S+) (\S+) \{\}$/.exec(line);
      const del = /^delete table (\S+) (\S+)$/.exec(line);
      const define = /^table (\S+) (\S+) \{$/.exec(line);
      const chain = /^add chain (\S+) (\S+) (\S+)$/.exec(line);
      const element = /^(add|delete) element (\S+) (\S+) (\S+) \{ (.*) \}$/.exec(line);
      if (declare && !tables.has(`${declare[1]} ${declare[2]}`)) tables.set(`${declare[1]} ${declare[2]}`, []);
      else if (del) {
        tables.delete(`${del[1]} ${del[2]}`);
        sets.delete(`${del[1]} ${del[2]}`);
      } else if (define) open = { key: `${define[1]} ${define[2]}`, body: [] };
      else if (chain) tables.set(`${chain[1]} ${chain[2]}`, [...(tables.get(`${chain[1]} ${chain[2]}`) ?? []), `chain ${chain[3]} {`, '}']);
      else if (element) {
        const [, verb, family, table, set, list] = element;
        const key = `${family} ${table}`;
        if (!tables.has(key)) throw new Error(`Error: No such file or directory (table ${key})`);
        const perTable = sets.get(key) ?? new Map<string, Set<string>>();
        sets.set(key, perTable);
        const es = perTable.get(set!) ?? new Set<string>();
        perTable.set(set!, es);
        for (const e of list!.split(', ').map(canonicalElement)) {
          if (verb === 'add') es.add(e);
          else if (!es.delete(e)) throw new Error(`Error: Could not process rule: No such file or directory (element ${e})`);
        }
      }
    }
    this.tables.clear();
    for (const [k, v] of tables) this.tables.set(k, v);
    this.sets.clear();
    for (const [k, v] of sets) this.sets.set(k, v);
  }
}
