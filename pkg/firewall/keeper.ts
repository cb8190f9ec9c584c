/**
 * Keeps weft's nftables tables as wanted, whatever happens to the ruleset behind its back (a firewalld
 * reload, `nft flush ruleset`, an iptables-restore): each owner says which tables it wants (`want`, `unwant`),
 * and `sync` lists the ruleset once, compares every wanted table with how nft printed it right after weft
 * applied it, and applies whatever is missing or changed in one transaction.
 *
 * nftables offers Node no cheap change notification, so the daemon calls `sync` every resync period (and at
 * once when an owner changes what it wants): one `nft list ruleset` per period when nothing is wrong. nft runs
 * without blocking the daemon (issue 28), so passes are serialised: a `sync` asked for while one runs is one
 * more pass after it, shared by every caller meanwhile, and it sees every `want` made until then.
 *
 * Plugin-made chains (the CNI plugin's `ipMasq` rule, applied once per boot by the plugin) are kept too:
 * `adopt` hands over a chain's script and a test of whether the listing still holds it.
 *
 * A table with `elements` (table.ts) is compared without them; its elements, asked for after the listing,
 * are then added and deleted one by one (an element changing is the table doing its job, not a repair).
 */
import { messageOf } from '../errors/mod.ts';
import type { Logger } from '../log/logger.ts';
import { applyNftAsync, nftAsync } from './nft.ts';
import { deleteScript, elementsScript, replaceScript, splitRuleset, tableKey, withoutElements, type NftTable } from './table.ts';

/** How the keeper reaches nft: the real command, or a fake in unit tests. */
export interface NftRunner {
  listRuleset(): Promise<string>;
  apply(script: string, what: string): Promise<void>;
}

export const nftCommand: NftRunner = {
  async listRuleset() {
    const r = await nftAsync(['list', 'ruleset']);
    if (!r.ok) throw new Error(`nft list ruleset: ${r.stderr}`);
    return r.stdout;
  },
  apply: applyNftAsync,
};

/** A chain someone else made that weft keeps in place. */
export interface Adopted {
  /** Whether the ruleset (tables by "family name") still holds it. */
  present(tables: ReadonlyMap<string, string>): boolean;
  /** An idempotent nft -f script that puts it back. */
  readonly script: string;
}

export interface SyncReport {
  /** What was repaired (it had been applied, then changed or removed by someone else). */
  readonly repaired: readonly string[];
  /** What was applied for the first time or because an owner changed it. */
  readonly applied: readonly string[];
}

export class FirewallKeeper {
  readonly #runner: NftRunner;
  readonly #log: Logger;
  /** Wanted tables by key; undefined: wanted absent (deleted on the next sync, then forgotten). */
  readonly #want = new Map<string, NftTable | undefined>();
  /** How nft printed each table after weft applied it. */
  readonly #printed = new Map<string, string>();
  readonly #adopted = new Map<string, Adopted>();
  /**
   * A table with elements that needed no element change last pass: its listing and wanted elements then. The
   * same pair again needs none either; comparing 5,000 elements canonically every resync was most of the
   * daemon's CPU at rest with 5,000 peers (issue 28).
   */
  readonly #settled = new Map<string, string>();
  #said = '';
  #running: Promise<SyncReport> | undefined;
  #queued: Promise<SyncReport> | undefined;

  readonly #onRepair: ((what: string) => void) | undefined;

  /** `onRepair`: told of each table or chain restored, for the metrics. */
  constructor(deps: { log: Logger; runner?: NftRunner; onRepair?: (what: string) => void }) {
    this.#log = deps.log;
    this.#runner = deps.runner ?? nftCommand;
    this.#onRepair = deps.onRepair;
  }

  want(t: NftTable): void {
    const key = tableKey(t);
    const old = this.#want.get(key);
    if (old && replaceScript(old) !== replaceScript(t)) this.#printed.delete(key);
    this.#want.set(key, t);
  }

  unwant(t: Pick<NftTable, 'family' | 'name'>): void {
    const key = tableKey(t);
    this.#want.set(key, undefined);
    this.#printed.delete(key);
  }

  /**
   * Every table weft applied, as nft printed it right after ("family name" -> text; a table with `elements`
   * without them): what doctor compares with.
   */
  printed(): Record<string, string> {
    return Object.fromEntries([...this.#printed].filter(([k]) => this.#want.get(k) !== undefined));
  }

  /** Keeps `chain` (a name for logs) in place; undefined stops keeping it. */
  adopt(name: string, chain: Adopted | undefined): void {
    if (chain) this.#adopted.set(name, chain);
    else this.#adopted.delete(name);
  }

  /** Compares the ruleset with what is wanted and applies the difference; never rejects (the problem is logged). */
  sync(): Promise<SyncReport> {
    if (!this.#running) return this.#start();
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    return this.#queued;
  }

  #start(): Promise<SyncReport> {
    const p = this.#pass().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }

  async #pass(): Promise<SyncReport> {
    try {
      const report = await this.#sync();
      this.#said = '';
      return report;
    } catch (e) {
      const msg = `firewall: ${messageOf(e)}`;
      if (msg !== this.#said) this.#log.error(`${msg}; retrying every resync period`);
      this.#said = msg;
      return { repaired: [], applied: [] };
    }
  }

  async #sync(): Promise<SyncReport> {
    const have = splitRuleset(await this.#runner.listRuleset());
    const scripts: string[] = [];
    const repaired: string[] = [];
    const applied: string[] = [];
    /** Each table replaced, with the script it was replaced by (an owner may change it while nft runs). */
    const touched: [string, string][] = [];
    for (const [key, t] of this.#want) {
      const now = have.get(key);
      if (t === undefined) {
        if (now !== undefined) {
          scripts.push(deleteScript({ family: key.split(' ')[0] as NftTable['family'], name: key.split(' ')[1]! }));
          applied.push(`removed table ${key}`);
        }
        this.#want.delete(key);
        continue;
      }
      const printed = this.#printed.get(key);
      const elements = t.elements;
      if (now !== undefined && elements && withoutElements(now) === printed) {
        const want = elements();
        const pair = `${now}\0${JSON.stringify(want)}`;
        if (this.#settled.get(key) === pair) continue;
        const script = elementsScript(t, now, want);
        if (script !== '') {
          scripts.push(script);
          applied.push(`elements of table ${key}`);
          this.#settled.delete(key);
        } else this.#settled.set(key, pair);
        continue;
      }
      this.#settled.delete(key);
      if (now !== undefined && now === printed) continue;
      scripts.push(replaceScript(t, elements?.()));
      touched.push([key, replaceScript(t)]);
      if (printed === undefined) applied.push(`table ${key}`);
      else repaired.push(now === undefined ? `table ${key} was missing` : `table ${key} was changed`);
    }
    for (const [name, a] of this.#adopted) {
      if (a.present(have)) continue;
      scripts.push(a.script);
      repaired.push(`${name} was missing`);
    }
    if (scripts.length === 0) return { repaired, applied };
    await this.#runner.apply(scripts.join(''), [...repaired, ...applied].join(', '));
    const after = splitRuleset(await this.#runner.listRuleset());
    for (const [key, script] of touched) {
      const p = after.get(key);
      const now = this.#want.get(key);
      // Changed or unwanted meanwhile: not what nft printed, so the next pass applies it.
      if (p === undefined || now === undefined || replaceScript(now) !== script) continue;
      this.#printed.set(key, now.elements ? withoutElements(p) : p);
    }
    for (const r of repaired) this.#onRepair?.(r);
    if (repaired.length > 0) this.#log.warn(`firewall: ${repaired.join('; ')} (a firewall reload or nft flush ruleset?); restored`);
    return { repaired, applied };
  }
}
