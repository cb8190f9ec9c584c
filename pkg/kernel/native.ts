/**
 * The two native addons weft uses, loaded lazily and synchronously from this one place (house rule R3):
 * netlink's socket binding and koffi's FFI for setns(2), ioctl(2), unshare(2) and mount(2).
 *
 * Both are loaded with process.dlopen straight from their prebuilt binaries, not through the packages' own
 * JavaScript loaders: those cost 8 ms (netlink's node-gyp-build probing) and 21 ms (koffi's loader, which
 * pulls in node:util) on every CNI invocation, while dlopen takes about 1 ms. The small socket wrapper below
 * replaces netlink's `RawNetlinkSocket` (bind to a free port, send, close, ref/unref, membership).
 * WEFT_NATIVE_DIR, when set, is where the single-executable build has put the binaries.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface RawSocket {
  on(event: 'message', listener: (msg: Buffer) => void): void;
  on(event: 'error', listener: (err: Error & { errno?: number; code?: string }) => void): void;
  send(msg: Uint8Array, callback: (error?: Error) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
  addMembership(group: number): void;
  setRecvBufferSize(size: number): void;
}

export interface Libc {
  setns(fd: number, nstype: number): number;
  ioctl(fd: number, request: number): number;
  unshare(flags: number): number;
  mount(source: string, target: string, fstype: string, flags: number): number;
  umount2(target: string, flags: number): number;
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, flags: number, addr: Buffer): number;
  close(fd: number): number;
  errno(): number;
}

// A require that resolves from node_modules: made from the bundle's file in the CommonJS bundle, from this
// file's URL when run from source. Made only when needed (the single executable never needs it), as making
// one costs a CNI invocation over a millisecond.
let resolver: NodeJS.Require | undefined;
const requireHere = (): NodeJS.Require =>
  (resolver ??=
    typeof module === 'object' && typeof module.filename === 'string' ? createRequire(module.filename) : createRequire(import.meta.url));

function dlopen<T>(path: string): T {
  const m = { exports: {} as T };
  process.dlopen(m, path);
  return m.exports;
}

/** The prebuilt binary `file` of npm package `pkg`, or from WEFT_NATIVE_DIR under `name`. */
function nativeBinary(pkg: string, file: string, name: string): string {
  const dir = process.env.WEFT_NATIVE_DIR;
  return dir ? join(dir, name) : join(dirname(requireHere().resolve(`${pkg}/package.json`)), file);
}

export const NATIVE_BINARIES = {
  netlink: { pkg: 'netlink', file: `prebuilds/linux-${process.arch}/node.napi.node`, name: 'netlink.node' },
  koffi: { pkg: `@koromix/koffi-linux-${process.arch}`, file: `linux_${process.arch}/koffi.node`, name: 'koffi.node' },
} as const;

interface NativeNetlinkClass {
  new (
    protocol: number,
    msgBuffer: number,
    onMessage: (msg: Buffer) => void,
    onError: (err: Error) => void,
  ): {
    bind(port: number, groups: number): void;
    send(port: number, groups: number, msg: Uint8Array, cb: (err?: Error) => void): void;
    close(): void;
    ref(): void;
    unref(): void;
    addMembership(group: number): void;
    setRecvBufferSize(size: number): void;
  };
}

let nativeNetlink: NativeNetlinkClass | undefined;
const EADDRINUSE = 98;
let portCounter = 32;

/** Opens a netlink socket of `protocol` in the calling thread's network namespace, bound to a free port. */
export function openRawSocket(protocol: number, recvBufferSize: number): RawSocket {
  const b = NATIVE_BINARIES.netlink;
  nativeNetlink ??= dlopen<{ NativeNetlink: NativeNetlinkClass }>(nativeBinary(b.pkg, b.file, b.name)).NativeNetlink;
  const listeners = { message: [] as Array<(m: Buffer) => void>, error: [] as Array<(e: Error) => void> };
  // These run inside the addon's native callback, where an escaping exception aborts the whole process
  // ("Error in native callback"): a listener's failure is handed to the error listeners, on a later tick.
  const safely = <T>(fs: Array<(x: T) => void>, x: T) => {
    for (const f of fs) {
      try {
        f(x);
      } catch (e) {
        setImmediate(() => {
          for (const g of listeners.error) g(e as Error);
        });
      }
    }
  };
  // 0 = message peeking: each datagram arrives whole, however large a dump's part is.
  const sock = new nativeNetlink(
    protocol,
    0,
    (m) => safely(listeners.message, m),
    (e) => safely(listeners.error, e),
  );
  try {
    sock.setRecvBufferSize(recvBufferSize);
    // Port ids are per namespace; pick one from the pid and a counter, as netlink's own loader does.
    for (let tries = 0; ; tries++) {
      const port = ((portCounter++ & 0x3ff) << 22) | (process.pid & 0x3fffff);
      try {
        sock.bind(port >>> 0, 0);
        break;
      } catch (e) {
        if ((e as { errno?: number }).errno !== EADDRINUSE || tries > 100) throw e;
      }
    }
  } catch (e) {
    sock.close();
    throw e;
  }
  return {
    on: (event: 'message' | 'error', f: (x: never) => void) => listeners[event].push(f as never),
    send: (msg, cb) => sock.send(0, 0, msg, cb),
    close: () => sock.close(),
    ref: () => sock.ref(),
    unref: () => sock.unref(),
    addMembership: (g) => sock.addMembership(g),
    setRecvBufferSize: (n) => sock.setRecvBufferSize(n),
  } as RawSocket;
}

interface Koffi {
  load(name: string): { func(sig: string): (...args: Array<number | string | Buffer | null>) => number };
  errno(): number;
}

function loadKoffi(): Koffi {
  const b = NATIVE_BINARIES.koffi;
  try {
    return dlopen<Koffi>(nativeBinary(b.pkg, b.file, b.name));
  } catch {
    return requireHere()('koffi') as Koffi; // another platform's layout: koffi's own loader finds it
  }
}

let libc: Libc | undefined;
/** libc's functions, each declared to koffi on its first call (a CNI ADD needs only setns). */
export function loadLibc(): Libc {
  if (libc) return libc;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const lazy = (sig: string) => {
    let f: ((...args: Array<number | string | Buffer | null>) => number) | undefined;
    return (...args: Array<number | string | Buffer | null>) => {
      f ??= lib.func(sig);
      return f(...args);
    };
  };
  const setns = lazy('int setns(int fd, int nstype)');
  const ioctl = lazy('int ioctl(int fd, unsigned long request, ...)');
  const unshare = lazy('int unshare(int flags)');
  const mount = lazy('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)');
  const umount2 = lazy('int umount2(const char *target, int flags)');
  const socket = lazy('int socket(int domain, int type, int protocol)');
  const sendto = lazy('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned int addrlen)');
  const close = lazy('int close(int fd)');
  libc = {
    setns: (fd, t) => setns(fd, t),
    ioctl: (fd, r) => ioctl(fd, r),
    unshare: (f) => unshare(f),
    mount: (src, target, fstype, flags) => mount(src, target, fstype, flags, null),
    umount2: (target, flags) => umount2(target, flags),
    socket: (d, t, p) => socket(d, t, p),
    sendto: (fd, buf, flags, addr) => sendto(fd, buf, buf.length, flags, addr, addr.length),
    close: (fd) => close(fd),
    errno: () => koffi.errno(),
  };
  return libc;
}
