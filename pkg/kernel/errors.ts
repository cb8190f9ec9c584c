/**
 * Kernel errors name the operation, the object and the kernel's errno, so a caller can tell "already there"
 * (EEXIST) from "already gone" (ENODEV, ESRCH, ENOENT) without parsing text, and a user reads e.g.
 * `add veth "veth1a2b3c4d" (peer "eth0" in /run/netns/c1): EEXIST (File exists)`.
 */
import { WeftError } from '../errors/mod.ts';

export type ErrnoName =
  | 'EEXIST'
  | 'ENODEV'
  | 'ENOENT'
  | 'ESRCH'
  | 'EINVAL'
  | 'EBUSY'
  | 'EPERM'
  | 'ENETUNREACH'
  | 'EADDRNOTAVAIL'
  | 'ERANGE'
  | 'ETIMEDOUT'
  | (string & {});

// node:util is loaded only when an error is described: it is not in Node's startup snapshot, and the CNI
// plugin's happy path should not pay for compiling it.
const util = () => process.getBuiltinModule('node:util');

export function errnoName(errno: number): string {
  try {
    return util().getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function errnoText(errno: number): string {
  try {
    return util().getSystemErrorMessage(-errno);
  } catch {
    return 'unknown error';
  }
}

const kKernelError = Symbol.for('weft.kernel-error');

export class KernelError extends WeftError {
  readonly op: string;
  readonly object: string;
  readonly errno: number;
  readonly errnoName: string;

  constructor(op: string, object: string, errno: number, cause?: unknown) {
    const name = errnoName(errno);
    super('WEFT_KERNEL', `${op} ${object}: ${name} (${errnoText(errno)})`, cause === undefined ? {} : { cause });
    this.name = 'KernelError';
    this.op = op;
    this.object = object;
    this.errno = errno;
    this.errnoName = name;
    Object.defineProperty(this, kKernelError, { value: true });
  }
}

export function isKernelError(e: unknown, ...names: ErrnoName[]): e is KernelError {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[kKernelError] !== true) return false;
  return names.length === 0 || names.includes((e as KernelError).errnoName);
}

/** True for the errors that mean "the object is not there" in the different netlink families. */
export function isGone(e: unknown): boolean {
  return isKernelError(e, 'ENODEV', 'ENOENT', 'ESRCH', 'EADDRNOTAVAIL');
}

/** An errno from the netlink socket, before the handle adds the operation and object. */
export class ErrnoError extends Error {
  readonly errno: number;
  constructor(errno: number) {
    super(errnoName(errno));
    this.errno = errno;
  }
}
