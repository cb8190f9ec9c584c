/**
 * nft as the FirewallKeeper sees it, for unit tests: scripts in (tables declared, deleted, defined; chains
 * added), a ruleset listing out, tab-indented as nft prints it. Only an input to tests of the keeper and its
 * owners; the real nft is used by the root tests.
 */
import type { NftRunner } from '../keeper.ts';

export class FakeNft implements NftRunner {
  readonly tables = new Map<string, string[]>();
  applies = 0;
  fail: string | undefined;

  listRuleset(): string {
    if (this.fail) throw new Error(this.fail);
    return [...this.tables].map(([k, body]) => [`table ${k} {`, ...body.map((l) => `\t${l.trim()}`), '}'].join('\n')).join('\n');
  }

  apply(script: string): void {
    this.applies++;
    let open: { key: string; body: string[] } | undefined;
    for (const line of script.split('\n')) {
      if (open) {
        if (line === '}') {
          this.tables.set(open.key, open.body);
          open = undefined;
        } else open.body.push(line);
        continue;
      }
      const declare = /^table (\S+) (\S+) \{\}$/.exec(line);
      const del = /^delete table (\S+) (\S+)$/.exec(line);
      const define = /^table (\S+) (\S+) \{$/.exec(line);
      const chain = /^add chain (\S+) (\S+) (\S+)$/.exec(line);
      if (declare && !this.tables.has(`${declare[1]} ${declare[2]}`)) this.tables.set(`${declare[1]} ${declare[2]}`, []);
      else if (del) this.tables.delete(`${del[1]} ${del[2]}`);
      else if (define) open = { key: `${define[1]} ${define[2]}`, body: [] };
      else if (chain)
        this.tables.set(`${chain[1]} ${chain[2]}`, [...(this.tables.get(`${chain[1]} ${chain[2]}`) ?? []), `chain ${chain[3]} {`, '}']);
    }
  }
}
