/**
 * systemd's readiness protocol (sd_notify(3)): one datagram, `READY=1` and friends, to the Unix socket
 * named by $NOTIFY_SOCKET (a path, or `@name` for an abstract socket). Node has no Unix datagram sockets, so
 * the datagram goes through libc (koffi, already loaded for setns); no library, no child process. Without
 * $NOTIFY_SOCKET (not run by systemd with Type=notify) it does nothing.
 */
import { KernelError } from './errors.ts';
import { loadLibc } from './native.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

/** struct sockaddr_un for `path` ("@x" is the abstract name "\0x"). Pure. */
export function sockaddrUn(path: string): Buffer {
  const name = Buffer.from(path.startsWith('@') ? `\0${path.slice(1)}` : path, 'utf8');
  if (name.length > 107) throw new RangeError(`socket path ${path} is longer than 107 bytes`);
  const abstract = path.startsWith('@');
  const addr = Buffer.alloc(2 + name.length + (abstract ? 0 : 1));
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  return addr;
}

/** Sends `state` (e.g. "READY=1\nSTATUS=...") to systemd; false when not run under a notify socket. */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const libc = loadLibc();
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new KernelError('open', 'a Unix datagram socket for sd_notify', libc.errno());
  try {
    if (libc.sendto(fd, Buffer.from(state, 'utf8'), MSG_NOSIGNAL, sockaddrUn(socketPath)) < 0) {
      throw new KernelError('send', `sd_notify to ${socketPath}`, libc.errno());
    }
    return true;
  } finally {
    libc.close(fd);
  }
}
