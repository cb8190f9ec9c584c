/**
 * Runs one reconcile at a time, and again as long as something asked for one meanwhile: a burst of watch
 * events costs a few passes, not one per event. A pass that could not apply everything is retried after a
 * delay that doubles up to 10 s; a full pass also runs every resync period whatever happened.
 */
export class Reconciler {
  readonly #pass: () => Promise<boolean>;
  #dirty = false;
  #running: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryDelay = 500;
  #stopped = false;

  /** `pass` returns false when it should be retried. */
  constructor(pass: () => Promise<boolean>) {
    this.#pass = pass;
  }

  /** Asks for a pass; resolves when a pass that started after this call has finished. */
  trigger(): Promise<void> {
    this.#dirty = true;
    this.#running ??= this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#dirty && !this.#stopped) {
        this.#dirty = false;
        const ok = await this.#pass();
        clearTimeout(this.#retry);
        if (ok) this.#retryDelay = 500;
        else if (!this.#stopped) {
          this.#retry = setTimeout(() => void this.trigger(), this.#retryDelay);
          this.#retryDelay = Math.min(this.#retryDelay * 2, 10_000);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  /** No pass starts after this; resolves once a pass under way has finished (so teardown never races it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#running;
  }
}
