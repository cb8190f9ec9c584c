/**
 * List-then-watch over an etcd prefix, with no gap and no silent loss: list (a snapshot and its revision),
 * watch from revision + 1, and on any watcher error (etcd reports a compacted start revision as a cancelled
 * watch, and re-watching at that revision "fails identically forever", as flannel found) list again, hand over
 * the new snapshot, and watch from its revision. A failing list is retried with backoff (100 ms doubling to
 * 5 s). Disconnects are resumed by the client from the last revision it saw.
 */
import type { Etcd3, Watcher } from 'etcd3';
import { messageOf } from '../errors/mod.ts';
import type { RawKv } from '../lease/lease.ts';

export type Change = { readonly type: 'put'; readonly kv: RawKv } | { readonly type: 'delete'; readonly key: string; readonly modRevision: string };

export interface FeedHandlers {
  snapshot(kvs: readonly RawKv[], revision: string): void;
  changes(changes: readonly Change[]): void;
  log(level: 'info' | 'warn', msg: string): void;
}

export const toRaw = (kv: { key: Buffer; value: Buffer; lease: string; mod_revision: string }): RawKv => ({
  key: kv.key.toString(), value: kv.value.toString(), leaseId: String(kv.lease || '0'), modRevision: String(kv.mod_revision),
});

export class PrefixFeed {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #h: FeedHandlers;
  #watcher: Watcher | undefined;
  #stopped = false;
  #backoff = 100;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: Etcd3, prefix: string, handlers: FeedHandlers) {
    this.#client = client;
    this.#prefix = prefix;
    this.#h = handlers;
  }

  /** Resolves after the first snapshot was handed over. */
  async start(): Promise<void> {
    while (!this.#stopped) {
      if (await this.#resync()) return;
      await new Promise((r) => (this.#timer = setTimeout(r, this.#backoff)));
      this.#backoff = Math.min(this.#backoff * 2, 5000);
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    void this.#watcher?.cancel().catch(() => {});
  }

  async #resync(): Promise<boolean> {
    try {
      const r = await this.#client.getAll().prefix(this.#prefix).exec();
      const revision = String(r.header.revision);
      this.#h.snapshot(r.kvs.map(toRaw), revision);
      const w = await this.#client.watch().prefix(this.#prefix).startRevision(String(BigInt(revision) + 1n)).create();
      w.on('data', (res) => {
        const changes = res.events.map((ev): Change =>
          ev.type === 'Put' ? { type: 'put', kv: toRaw(ev.kv) } : { type: 'delete', key: ev.kv.key.toString(), modRevision: String(ev.kv.mod_revision) },
        );
        if (changes.length > 0) this.#h.changes(changes);
      });
      w.on('error', (e: Error) => this.#onWatchError(w, e));
      w.on('disconnected', (e: Error) => this.#onWatchError(w, e));
      void this.#watcher?.cancel().catch(() => {});
      this.#watcher = w;
      this.#backoff = 100;
      return true;
    } catch (e) {
      this.#h.log('warn', `cannot list or watch ${this.#prefix}: ${messageOf(e)}; retrying in ${this.#backoff} ms`);
      return false;
    }
  }

  #onWatchError(w: Watcher, e: Error): void {
    if (this.#stopped || w !== this.#watcher) return;
    this.#h.log('info', `watch on ${this.#prefix} ended (${messageOf(e) || 'cancelled'}); listing again`);
    this.#watcher = undefined;
    void w.cancel().catch(() => {});
    void this.start();
  }
}
