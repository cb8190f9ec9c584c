/**
 * Rollback steps for a failing ADD, run in reverse order. Every step runs even if an earlier one fails: a
 * failed rollback step is logged, and the ADD's own error is what the runtime sees; the DEL that follows a
 * failed ADD (the runtime sends one) finishes the job from the record.
 */
import { messageOf } from '../errors/mod.ts';
import { stderrLog } from '../log/stderr.ts';

export class Undo {
  readonly #steps: Array<{ what: string; run: () => unknown }> = [];

  push(what: string, run: () => unknown): void {
    this.#steps.push({ what, run });
  }

  async run(): Promise<void> {
    for (const s of this.#steps.splice(0).reverse()) {
      try {
        await s.run();
      } catch (e) {
        stderrLog.warn(`rollback: could not ${s.what}: ${messageOf(e)}`);
      }
    }
  }
}
