/**
 * List-then-watch over a network's subnets, with no gap and no silent loss: list (a snapshot and its
 * revision), watch from revision + 1, and on any watcher error (etcd reports a compacted start revision as a
 * cancelled watch, and re-watching at that revision "fails identically forever", as flannel found) list
 * again, hand over the new snapshot, and watch from its revision. A failing list is retried with backoff
 * (100 ms doubling to 5 s). Disconnects are resumed by the client from the last revision it saw.
 */
import type { Watcher } from 'etcd3';
import { messageOf } from '../errors/mod.ts';
import type { RawKv } from '../lease/lease.ts';
import type { SubnetChange, SubnetRegistry } from './registry.ts';

export interface FeedHandlers {
  snapshot(kvs: readonly RawKv[], revision: string): void;
  changes(changes: readonly SubnetChange[]): void;
  log(level: 'info' | 'warn', msg: string): void;
}

export class LeaseFeed {
  readonly #registry: SubnetRegistry;
  readonly #h: FeedHandlers;
  #watcher: Watcher | undefined;
  #stopped = false;
  #backoff = 100;
  #timer: NodeJS.Timeout | undefined;

  constructor(registry: SubnetRegistry, handlers: FeedHandlers) {
    this.#registry = registry;
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
      const listing = await this.#registry.listSubnets();
      this.#h.snapshot(listing.kvs, listing.revision);
      const old = this.#watcher;
      this.#watcher = await this.#registry.watchSubnets(
        String(BigInt(listing.revision) + 1n),
        (c) => this.#h.changes(c),
        (e) => this.#onWatchError(e),
      );
      void old?.cancel().catch(() => {});
      this.#backoff = 100;
      return true;
    } catch (e) {
      this.#h.log('warn', `cannot list or watch ${this.#registry.subnetsPrefix}: ${messageOf(e)}; retrying in ${this.#backoff} ms`);
      return false;
    }
  }

  #onWatchError(e: Error): void {
    if (this.#stopped) return;
    this.#h.log('info', `watch on ${this.#registry.subnetsPrefix} ended (${messageOf(e) || 'cancelled'}); listing again`);
    const w = this.#watcher;
    this.#watcher = undefined;
    void w?.cancel().catch(() => {});
    void this.start();
  }
}
