/**
 * systemd's Type=notify: READY=1 once the daemon serves (what /readyz says), once. Readiness is asked every
 * second until then; a failure to tell systemd is logged and not repeated (systemd's start timeout says the
 * rest).
 */
import { messageOf } from '../errors/mod.ts';
import { realClock, type Clock, type Timer } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';

const POLL_MS = 1000;

export interface ReadyNotifierDeps {
  readonly ready: () => boolean;
  /** systemd's STATUS= line. */
  readonly status: () => string;
  /** Sends the state to systemd; false when systemd did not ask (no NOTIFY_SOCKET). */
  readonly notify: (state: string) => boolean;
  readonly log: Logger;
  readonly clock?: Clock;
}

export class ReadyNotifier {
  readonly #d: ReadyNotifierDeps;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #notified = false;

  constructor(d: ReadyNotifierDeps) {
    this.#d = d;
    this.#clock = d.clock ?? realClock;
  }

  start(): void {
    const poll = () => {
      this.#timer = undefined;
      this.#check();
      if (!this.#notified) this.#timer = this.#clock.timer(poll, POLL_MS);
    };
    this.#timer = this.#clock.timer(poll, POLL_MS);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#notified || !this.#d.ready()) return;
    this.#notified = true;
    try {
      if (this.#d.notify(`READY=1\nSTATUS=${this.#d.status()}`)) this.#d.log.info('told systemd: ready');
    } catch (e) {
      this.#d.log.warn(`cannot tell systemd the daemon is ready: ${messageOf(e)}`);
    }
  }
}
