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
      let m: RegExpExecArray | null;
      if (open) {
        if (line === '}') {
          this.tables.set(open.key, open.body);
          open = undefined;
        } else open.body.push(line);
      } else if ((m = /^table (\S+) (\S+) \{\}$/.exec(line))) {
        if (!this.tables.has(`${m[1]} ${m[2]}`)) this.tables.set(`${m[1]} ${m[2]}`, []);
      } else if ((m = /^delete table (\S+) (\S+)$/.exec(line))) {
        this.tables.delete(`${m[1]} ${m[2]}`);
      } else if ((m = /^table (\S+) (\S+) \{$/.exec(line))) {
        open = { key: `${m[1]} ${m[2]}`, body: [] };
      } else if ((m = /^add chain (\S+) (\S+) (\S+)$/.exec(line))) {
        this.tables.set(`${m[1]} ${m[2]}`, [...(this.tables.get(`${m[1]} ${m[2]}`) ?? []), `chain ${m[3]} {`, '}']);
      }
    }
  }
}
