/**
 * Diagnostics for short-lived processes (the CNI plugin): one line per message, written synchronously to
 * stderr so nothing is lost when the process exits and nothing ever reaches stdout, which belongs to the CNI
 * result. `WEFT_DEBUG=1` adds debug lines.
 */
import { writeSync } from 'node:fs';

const debugOn = (): boolean => process.env.WEFT_DEBUG === '1';

function line(level: string, msg: string): void {
  try {
    writeSync(2, `weft: ${level}${msg}\n`);
  } catch {
    // stderr closed: nothing useful to do
  }
}

export const stderrLog = {
  warn: (msg: string): void => line('warning: ', msg),
  debug: (msg: string): void => {
    if (debugOn()) line('debug: ', msg);
  },
};
