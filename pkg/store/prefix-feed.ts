/**
 * List-then-watch over an etcd prefix, with no gap and no silent loss: list (a snapshot and its revision),
 * watch from revision + 1, and whenever the watch ends (etcd compacted the revisions it needed, which
 * re-watching "fails identically forever", as flannel found; etcd went away; the client moved to another
 * endpoint) list again, hand over the new snapshot, and watch from its revision. A failing list is retried
 * with backoff (100 ms doubling to 5 s).
 */
import { messageOf } from '../errors/mod.ts';
import { realClock, type Clock, type Timer } from '../lease/clock.ts';
import type { RawKv } from '../lease/lease.ts';
import type { Change, FeedHandlers } from '../lease/store.ts';
import type { KeyValue, KvClient, Watch, WatchEnd } from './etcd/mod.ts';

export type { Change, FeedHandlers };

export const toRaw = (kv: KeyValue): RawKv => ({
  key: kv.key,
  value: kv.value,
  leaseId: kv.lease,
  modRevision: kv.modRevision,
  createRevision: kv.createRevision,
});

export class PrefixFeed {
  readonly #client: KvClient;
  readonly #prefix: string;
  readonly #h: FeedHandlers;
  #watch: Watch | undefined;
  #stopped = false;
  #backoff = 100;
  #timer: Timer | undefined;
  readonly #clock: Clock;
  #said = '';
  /** Watch ends and relists since start, for status pages. */
  relists = 0;

  /** `clock` times the retries (unit tests give a fake one). */
  constructor(client: KvClient, prefix: string, handlers: FeedHandlers, clock: Clock = realClock) {
    this.#client = client;
    this.#clock = clock;
    this.#prefix = prefix;
    this.#h = handlers;
  }

  /** Resolves after the first snapshot was handed over. */
  async start(): Promise<void> {
    while (!this.#stopped) {
      if (await this.#resync()) return;
      await new Promise<void>((r) => (this.#timer = this.#clock.timer(r, this.#backoff)));
      this.#backoff = Math.min(this.#backoff * 2, 5000);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#watch?.cancel();
  }

  async #resync(): Promise<boolean> {
    try {
      const r = await this.#client.getPrefix(this.#prefix);
      if (this.#stopped) return true;
      this.#h.snapshot(r.kvs.map(toRaw), r.revision);
      this.#watch?.cancel();
      this.#watch = await this.#client.watchPrefix(this.#prefix, String(BigInt(r.revision) + 1n), {
        events: (evs) => {
          if (this.#stopped) return;
          this.#h.changes(evs.map((ev): Change => (ev.type === 'put' ? { type: 'put', kv: toRaw(ev.kv) } : ev)));
        },
        end: (why) => this.#onEnd(why),
      });
      if (this.#stopped) this.#watch.cancel();
      this.#backoff = 100;
      if (this.#said) this.#h.log('info', `listing and watching ${this.#prefix} again`);
      this.#said = '';
      return true;
    } catch (e) {
      const msg = messageOf(e);
      // Said once per distinct problem: a minute of etcd down is not 60 identical lines.
      if (msg !== this.#said) this.#h.log('warn', `cannot list or watch ${this.#prefix}: ${msg}; retrying with backoff up to 5 s`);
      this.#said = msg;
      return false;
    }
  }

  #onEnd(why: WatchEnd): void {
    if (this.#stopped) return;
    this.#watch = undefined;
    this.relists++;
    const reason = why.kind === 'compacted' ? `etcd compacted revision ${why.compactRevision}` : why.reason;
    this.#h.log('info', `watch on ${this.#prefix} ended (${reason}); listing again`);
    void this.start();
  }
}
