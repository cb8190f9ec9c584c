/**
 * The two native addons weft uses, loaded lazily and synchronously from one place: `netlink`'s raw socket
 * (only its small native layer: the package's rt message tables cost 35-50 ms to load, more than a whole CNI
 * ADD should) and `koffi` for setns(2)/ioctl(2). Only pkg/kernel may import this module (house rule R3), and
 * the single-binary build swaps how these are found without touching callers.
 */
import { createRequire } from 'node:module';

export interface RawSocket {
  on(event: 'message', listener: (msg: Buffer) => void): void;
  on(event: 'error', listener: (err: Error & { errno?: number; code?: string }) => void): void;
  send(msg: Uint8Array, options: { port: number }, callback: (error?: Error) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
  addMembership(group: number): void;
  setRecvBufferSize(size: number): void;
  address(): { port: number };
}

interface RawSocketClass {
  new (protocol: number, options?: { recvBufferSize?: number }): RawSocket;
}

export interface Libc {
  setns(fd: number, nstype: number): number;
  ioctl(fd: number, request: number): number;
  unshare(flags: number): number;
  mount(source: string, target: string, fstype: string, flags: number): number;
  umount2(target: string, flags: number): number;
  errno(): number;
}

const require = createRequire(import.meta.url);

let rawSocketClass: RawSocketClass | undefined;
export function rawNetlinkSocket(): RawSocketClass {
  rawSocketClass ??= (require('netlink/dist/raw.js') as { RawNetlinkSocket: RawSocketClass }).RawNetlinkSocket;
  return rawSocketClass;
}

let libc: Libc | undefined;
export function loadLibc(): Libc {
  if (libc) return libc;
  const koffi = require('koffi') as {
    load(name: string): { func(sig: string): (...args: Array<number | string | null>) => number };
    errno(): number;
  };
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  const unshare = lib.func('int unshare(int flags)');
  const mount = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)');
  const umount2 = lib.func('int umount2(const char *target, int flags)');
  libc = {
    setns: (fd, t) => setns(fd, t),
    ioctl: (fd, r) => ioctl(fd, r),
    unshare: (f) => unshare(f),
    mount: (src, target, fstype, flags) => mount(src, target, fstype, flags, null),
    umount2: (target, flags) => umount2(target, flags),
    errno: () => koffi.errno(),
  };
  return libc;
}
