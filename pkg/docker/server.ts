/**
 * Docker's plugin transport: HTTP POSTs of JSON to `/<Interface>.<Method>` on a Unix socket in Docker's plugin
 * directory, answered with JSON of Docker's plugin content type; a failure is HTTP 500 with `{"Err": ...}`,
 * which Docker shows the user (after the method's name).
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { messageOf } from '../errors/mod.ts';
import type { Logger } from '../log/logger.ts';
import { CONTENT_TYPE, errorBody } from './protocol.ts';

export async function startPluginServer(
  socket: string,
  handle: (method: string, body: Readonly<Record<string, unknown>>) => Promise<unknown>,
  log: Logger,
  onRequest?: (method: string, result: 'ok' | 'error') => void,
): Promise<Server> {
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server = createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\//, '');
    let text = '';
    req.on('data', (c: Buffer) => {
      text += String(c);
    });
    req.on('end', () => {
      void (async () => {
        let status = 200;
        let out: unknown;
        try {
          const body = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          out = await handle(method, body ?? {});
        } catch (e) {
          status = 500;
          out = errorBody(messageOf(e));
          log.warn(`Docker's ${method} refused: ${messageOf(e)}`);
        }
        log.debug(`Docker ${method} -> ${status}`);
        // Only the API's own method names become label values: anything else is one label.
        onRequest?.(/^(Plugin|NetworkDriver|IpamDriver)\.[A-Za-z]+$/.test(method) ? method : 'other', status === 200 ? 'ok' : 'error');
        res.writeHead(status, { 'Content-Type': CONTENT_TYPE });
        res.end(JSON.stringify(out));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o660);
  return server;
}
