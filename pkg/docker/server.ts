/**
 * Docker's plugin transport: HTTP POSTs of JSON to `/<Interface>.<Method>` on a Unix socket in Docker's plugin
 * directory, answered with JSON of Docker's plugin content type; a failure is HTTP 500 with `{"Err": ...}`,
 * which Docker shows the user (after the method's name).
 *
 * Requests run inside pkg/http's boundary (issue 25): a path that is no plugin method is a 404, a body
 * over 1 MiB a 413, one that is not a JSON object a 400, and what is not HTTP at all a 400 from the
 * parser, each with `Err` for Docker beside weft's `code` and `message`. Before, the body was gathered into
 * one string with no limit: a client that kept sending made the daemon hold it all, and past V8's string
 * limit the throw from the `data` listener ended the process.
 */
import type { Server } from 'node:http';
import { messageOf } from '../errors/mod.ts';
import { guardedServer, HttpError, listenUnix, quoted, readJsonObject, sendJson, type ErrorShape } from '../http/mod.ts';
import type { Logger } from '../log/logger.ts';
import { CONTENT_TYPE, errorBody } from './protocol.ts';

/** Only the API's own method names become label values: anything else is one label. */
const methodLabel = (method: string): string => (/^(Plugin|NetworkDriver|IpamDriver)\.[A-Za-z]+$/.test(method) ? method : 'other');

export async function startPluginServer(
  socket: string,
  handle: (method: string, body: Readonly<Record<string, unknown>>) => Promise<unknown>,
  log: Logger,
  onRequest?: (method: string, result: 'ok' | 'error') => void,
): Promise<Server> {
  const server = guardedServer(
    async (req, res) => {
      const method = (req.url ?? '').replace(/^\//, '');
      if (methodLabel(method) === 'other') throw new HttpError(404, 'WEFT_NOT_FOUND', `no such plugin method: ${quoted(method)}`);
      let status = 200;
      let out: unknown;
      try {
        const body = await readJsonObject(req);
        out = await handle(method, body);
      } catch (e) {
        // A request Docker could not have sent (too big, not JSON) is answered by the boundary: a 4xx.
        if (e instanceof HttpError) {
          onRequest?.(methodLabel(method), 'error');
          throw e;
        }
        status = 500;
        out = errorBody(messageOf(e));
        log.warn(`Docker's ${methodLabel(method)} refused: ${messageOf(e)}`);
      }
      log.debug(`Docker ${methodLabel(method)} -> ${status}`);
      onRequest?.(methodLabel(method), status === 200 ? 'ok' : 'error');
      sendJson(res, status, out, CONTENT_TYPE);
    },
    { errorBody: (e: ErrorShape) => ({ ...errorBody(e.message), ...e }) },
  );
  await listenUnix(server, socket, 0o660);
  return server;
}
