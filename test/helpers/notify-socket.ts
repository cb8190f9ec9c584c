/**
 * A Unix datagram socket standing in for systemd's notify socket (Node has none of its own): made, read
 * without blocking, and closed through libc with koffi. Test code only.
 */
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { sockaddrUn } from '../../pkg/kernel/sd-notify.ts';

type Fn = (...args: unknown[]) => number;
interface Koffi {
  load(name: string): { func(sig: string): Fn };
}

const koffi = createRequire(import.meta.url)('koffi') as Koffi;
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int domain, int type, int protocol)');
const bind = libc.func('int bind(int fd, const void *addr, unsigned int len)');
const recv = libc.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)');
const close = libc.func('int close(int fd)');
const MSG_DONTWAIT = 0x40;

export class NotifySocket {
  readonly path: string;
  readonly #fd: number;

  constructor(path: string) {
    this.path = path;
    rmSync(path, { force: true });
    this.#fd = socket(1, 2, 0);
    const addr = sockaddrUn(path);
    if (this.#fd < 0 || bind(this.#fd, addr, addr.length) !== 0) throw new Error(`cannot bind a datagram socket at ${path}`);
  }

  /** Every datagram that arrived since the last call. */
  read(): string[] {
    const out: string[] = [];
    const buf = Buffer.alloc(4096);
    for (;;) {
      const n = recv(this.#fd, buf, buf.length, MSG_DONTWAIT);
      if (n <= 0) return out;
      out.push(buf.subarray(0, n).toString('utf8'));
    }
  }

  close(): void {
    close(this.#fd);
    rmSync(this.path, { force: true });
  }
}
