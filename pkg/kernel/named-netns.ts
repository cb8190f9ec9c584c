/**
 * Named network namespaces under /run/netns, made the way `ip netns add` makes them (so `ip netns list`,
 * `ip -n NAME` and `nsenter --net=/run/netns/NAME` all see them): /run/netns is a shared mount point, and each
 * name is a file with the namespace bind-mounted onto it. The runtime creates container namespaces; weft needs
 * this only for simulated hosts (tests, the benchmarks, the lab).
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, unlinkSync, constants as fsc } from 'node:fs';
import { WeftError } from '../errors/mod.ts';
import { KernelError } from './errors.ts';
import { loadLibc } from './native.ts';
import { openNetns, type Netns } from './netns.ts';

export const NETNS_RUN_DIR = '/run/netns';

const CLONE_NEWNET = 0x40000000;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SHARED = 1 << 20;
const MNT_DETACH = 2;
const EINVAL = 22;

function check(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.length > 200) {
    throw new WeftError('WEFT_INVALID_ARGUMENT', `"${name}" is not a valid network namespace name`);
  }
  return `${NETNS_RUN_DIR}/${name}`;
}

/** Makes /run/netns a shared mount point, binding it onto itself first if it is not a mount yet. */
function ensureRunDir(): void {
  const libc = loadLibc();
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  if (libc.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC) === 0) return;
  const errno = libc.errno();
  if (errno !== EINVAL) throw new KernelError('make shared', `mount ${NETNS_RUN_DIR}`, errno);
  if (libc.mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC) !== 0)
    throw new KernelError('bind', `mount ${NETNS_RUN_DIR}`, libc.errno());
  if (libc.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC) !== 0)
    throw new KernelError('make shared', `mount ${NETNS_RUN_DIR}`, libc.errno());
}

/** `ip netns add NAME`: a new, empty network namespace pinned at /run/netns/NAME. */
export function createNamedNetns(name: string): Netns {
  const path = check(name);
  const libc = loadLibc();
  ensureRunDir();
  try {
    closeSync(openSync(path, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_EXCL, 0o444));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new WeftError('WEFT_ALREADY_EXISTS', `network namespace ${name} already exists`);
    throw e;
  }
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    // unshare() moves only this thread into the new namespace; it goes back before anything else runs.
    if (libc.unshare(CLONE_NEWNET) !== 0) throw new KernelError('unshare', 'a new network namespace', libc.errno());
    try {
      if (libc.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND) !== 0) throw new KernelError('bind', `mount ${path}`, libc.errno());
    } finally {
      if (libc.setns(home, CLONE_NEWNET) !== 0) {
        process.stderr.write(`weft: fatal: cannot return to the original network namespace (errno ${libc.errno()})\n`);
        process.abort();
      }
    }
  } catch (e) {
    unlinkSync(path);
    throw e;
  } finally {
    closeSync(home);
  }
  return openNetns(path);
}

/** `ip netns del NAME`; a name that does not exist is not an error (deleting is idempotent). */
export function deleteNamedNetns(name: string): void {
  const path = check(name);
  if (!existsSync(path)) return;
  const libc = loadLibc();
  if (libc.umount2(path, MNT_DETACH) !== 0) {
    const errno = libc.errno();
    if (errno !== EINVAL) throw new KernelError('unmount', path, errno);
  }
  unlinkSync(path);
}

/** `ip netns list` (names only). */
export function listNamedNetns(): string[] {
  return existsSync(NETNS_RUN_DIR) ? readdirSync(NETNS_RUN_DIR).sort() : [];
}
