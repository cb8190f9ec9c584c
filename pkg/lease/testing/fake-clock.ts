/**
 * A clock for unit tests: time moves only when `advance` says so, and timers and sleeps due by then run in
 * order (with the promise jobs they start settled in between), so a day of lease renewals takes milliseconds.
 */
import type { Clock, Timer } from '../clock.ts';

interface Due {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
};

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #due: Due[] = [];

  constructor(start = Date.UTC(2026, 10, 29)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  timer(fn: () => void, ms: number): Timer {
    const d: Due = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#due.push(d);
    return { cancel: () => (d.cancelled = true) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = this.timer(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          t.cancel();
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, running every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#due.filter((d) => !d.cancelled && d.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#due = this.#due.filter((d) => d !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}
