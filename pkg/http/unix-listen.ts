/**
 * Listening on a Unix socket that only its owner can connect to from the first instant. `listen` then
 * `chmod` (what weft did before issue 25) leaves a window: bind(2) makes the socket file with 0777 minus the
 * process's umask (0755 under the usual 022, and connect(2) needs only write permission, so with a umask of
 * 0 anyone), and the chmod comes after. Here bind runs under umask 0o077, so the file is born 0700 (root
 * only), and is opened up to `mode` for the group afterwards.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname } from 'node:path';

/**
 * `server.listen(socket)` with the file created 0700, then chmod `mode`. The file and its directory are
 * created if absent; a stale socket file is removed first.
 */
export async function listenUnix(server: Server, socket: string, mode = 0o660): Promise<void> {
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The umask is process-wide, and that is safe here: Node binds a Unix socket synchronously inside
    // listen() (net.js setupListenHandle: pipe.bind, then listen), and the umask is restored before this
    // function returns, so no other JavaScript runs while it is tight. weft writes its files synchronously
    // on this thread (pkg/files); an asynchronous fs call completing on libuv's pool in that instant would
    // get a file with fewer permission bits, never more.
    const before = process.umask(0o077);
    try {
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(before);
    }
  });
  chmodSync(socket, mode);
}
