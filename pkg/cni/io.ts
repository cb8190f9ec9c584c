/**
 * The plugin's process boundary, injectable so the dispatcher runs in-process in unit tests exactly as it
 * runs in the binary. The real one reads stdin and writes stdout synchronously: a runtime reads stdout through
 * a pipe, and Node's asynchronous pipe writes can be cut off when the process exits (Node's "A note on
 * process I/O"), which would hand the runtime half a result.
 */
import { fstatSync, readFileSync, writeSync } from 'node:fs';

export interface CniIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** All of stdin; empty when stdin is a terminal (a person running the plugin by hand). */
  readStdin(): Buffer;
  writeStdout(s: string): void;
  writeStderr(s: string): void;
}

/** Writes all of `s` to `fd`, retrying partial writes and EAGAIN on a non-blocking pipe. */
export function writeAllSync(fd: number, s: string): void {
  const buf = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export function processIo(): CniIo {
  return {
    env: process.env,
    // A terminal is a character device; node:tty would tell the same but costs milliseconds to load.
    readStdin: () => (fstatSync(0).isCharacterDevice() ? Buffer.alloc(0) : readFileSync(0)),
    writeStdout: (s) => writeAllSync(1, s),
    writeStderr: (s) => writeAllSync(2, s),
  };
}
