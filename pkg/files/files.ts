/**
 * State files: atomic replacement (write a temporary file, rename over), exclusive creation (write a
 * temporary file, link it to the name: link fails if the name exists, so it claims the name across
 * concurrent processes, and the name never shows an empty or half-written file), and tolerant reads. All synchronous: the CNI
 * plugin is a short-lived process with nothing else to do meanwhile, and the daemon's files are tiny.
 *
 * Durability: a process killed at any point leaves either the old or the new content, never a torn file
 * (rename and link are atomic); at worst a dot-named temporary file, which listings skip. There is no fsync per
 * write: a plugin invocation would pay milliseconds for it, and the
 * case it guards (power loss) also ends every container; records from a previous boot are recognised by the
 * boot ID they carry and reclaimed (pkg/contract/teardown.ts).
 *
 * Modes: every file is created with its `mode` by open(2) itself (less the process umask, which can only take
 * bits away), never written first and chmodded after, which would leave a window in which another user can
 * open it and keep the descriptor. A replaced file is a new inode with the new mode; a file overwritten in
 * place loses any bits beyond `mode` that an older version left on it. Pass 0o600 for anything another
 * user of the host should not read (issue 25).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
}

function writeAll(fd: number, data: string): void {
  const buf = Buffer.from(data, 'utf8');
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

let tmpCounter = 0;

/** Writes `data` to a new temporary file beside `path` (its directory created); returns the file's name. */
function writeTemp(path: string, data: string, mode: number): string {
  ensureDir(dirname(path));
  // Unique per process (pid) and per call (counter); O_EXCL catches anything else.
  const tmp = join(dirname(path), `.${process.pid}.${(tmpCounter++).toString(36)}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Replaces `path` with `data` atomically, creating its directory. */
export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = writeTemp(path, data, mode);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/**
 * Overwrites `path` in place (created if absent): for a hint that may be torn without harm, never for state.
 * Replacing a file by rename or by truncation to zero makes ext4 start writing the new data out at once
 * (its auto_da_alloc safeguard): about 1 ms in a CNI ADD, up to 4 ms on a busy disk. A write over the old
 * bytes, then a truncation to the new length, triggers neither.
 */
export function overwriteInPlace(path: string, data: string, mode = 0o644): void {
  ensureDir(dirname(path));
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, mode);
  try {
    // O_CREAT's mode applies only to a new file: an existing one is tightened to `mode`, never widened.
    const had = fstatSync(fd).mode & 0o777;
    if ((had & ~mode) !== 0) fchmodSync(fd, had & mode);
    writeAll(fd, data);
    ftruncateSync(fd, Buffer.byteLength(data));
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `path` with `data` only if it does not exist; false when it already does. A process killed before
 * the link leaves no `path` at all (an O_EXCL create followed by a write would leave it empty, with no owner).
 */
export function createExclusive(path: string, data: string, mode = 0o644): boolean {
  const tmp = writeTemp(path, data, mode);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Deletes `path`; false when it was already gone. */
export function removeIfExists(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Names in `dir`, skipping temporary files; empty when the directory does not exist. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
