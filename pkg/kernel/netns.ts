/**
 * Network namespaces: open one by path, tell "does not exist" from "not a network namespace", and run a
 * synchronous block inside it.
 *
 * Why synchronous: setns(2) moves only the calling thread. Node runs JavaScript on one thread, but fs, dns and
 * crypto work runs on libuv's pool threads, which stay where they were. So `withNetns` switches the main
 * thread in, runs a block that must not await (open a netlink socket, read or write /proc/sys/net with *Sync
 * calls), and switches back in `finally`. A socket opened there stays bound to that namespace for its life
 * and can then be used asynchronously from anywhere. This is Node's form of containernetworking/plugins'
 * `ns.Do()` rule (their pkg/ns/README.md explains the Go version of the same hazard).
 */
import { closeSync, fstatSync, openSync, statfsSync } from 'node:fs';
import { WeftError } from '../errors/mod.ts';
import { KernelError } from './errors.ts';
import { loadLibc } from './native.ts';

const CLONE_NEWNET = 0x40000000;
const NS_GET_NSTYPE = 0xb703;
const NSFS_MAGIC = 0x6e736673;
const PROC_SUPER_MAGIC = 0x9fa0;

export class Netns {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  get fd(): number {
    if (this.#fd === undefined) throw new Error(`network namespace ${this.path} is closed`);
    return this.#fd;
  }

  /** (dev, inode) identify a namespace; two paths to the same namespace compare equal. */
  get id(): string {
    const st = fstatSync(this.fd);
    return `${st.dev}:${st.ino}`;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/**
 * Opens a network namespace file such as `/run/netns/NAME` or `/proc/PID/ns/net`.
 * Throws WEFT_UNKNOWN_CONTAINER when the path does not exist and WEFT_INVALID_NETNS when it is not a network
 * namespace (another file, or another kind of namespace).
 */
export function openNetns(path: string): Netns {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WeftError('WEFT_UNKNOWN_CONTAINER', `network namespace ${path} does not exist`, { cause: e });
    throw new WeftError('WEFT_INVALID_NETNS', `cannot inspect network namespace ${path}: ${code ?? String(e)}`, { cause: e });
  }
  if (type !== NSFS_MAGIC && type !== PROC_SUPER_MAGIC) {
    throw new WeftError('WEFT_INVALID_NETNS', `${path} is not a network namespace (filesystem type 0x${type.toString(16)}, expected nsfs)`);
  }
  const fd = openSync(path, 'r');
  const nstype = loadLibc().ioctl(fd, NS_GET_NSTYPE);
  if (nstype !== CLONE_NEWNET) {
    closeSync(fd);
    throw new WeftError('WEFT_INVALID_NETNS', `${path} is not a network namespace`);
  }
  return new Netns(path, fd);
}

/** The calling thread's own network namespace. */
export function currentNetns(): Netns {
  return new Netns('/proc/thread-self/ns/net', openSync('/proc/thread-self/ns/net', 'r'));
}

function setns(fd: number, what: string): void {
  const libc = loadLibc();
  if (libc.setns(fd, CLONE_NEWNET) !== 0) throw new KernelError('setns into', what, libc.errno());
}

/**
 * Runs `fn` with the calling thread inside `ns`, then returns to the original namespace. `fn` must be
 * synchronous; a returned promise is refused because its continuation would run in the wrong namespace.
 */
export function withNetns<T>(ns: Netns, fn: () => T): T {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    setns(ns.fd, `network namespace ${ns.path}`);
    let result: T;
    try {
      result = fn();
    } finally {
      try {
        setns(home, 'the original network namespace');
      } catch (e) {
        // The thread is now stranded in the wrong namespace; nothing later would be trustworthy.
        process.stderr.write(`weft: fatal: ${(e as Error).message}\n`);
        process.abort();
      }
    }
    if (result instanceof Promise) throw new Error('withNetns() block returned a promise; it must be synchronous');
    return result;
  } finally {
    closeSync(home);
  }
}
