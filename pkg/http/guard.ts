/**
 * One error boundary for every HTTP server weft runs: the API socket, Docker's plugin socket and the health
 * port (issue 25). Before it, each server parsed and answered on its own, and one `GET //` on the API socket
 * threw from `new URL` inside the request listener: nothing caught it, and the daemon exited. Now:
 *
 * - every request runs inside `guard()`: whatever the handler throws, synchronously or not, becomes an
 *   answer (a `HttpError`'s status, 500 otherwise) in weft's JSON error shape, `{code, message, details?}`;
 *   a failure after the answer started destroys that one connection; nothing reaches the process;
 * - what Node's parser refuses (garbage bytes, a header too big, a request line cut short) is answered
 *   by `clientError` below with the same shape, then the connection is closed;
 * - bodies are read through `readBody`, bounded by `MAX_BODY_BYTES`: past it, 413 (the rest read and dropped
 *   up to `DISCARD_BYTES`, past that the connection closed), so a client cannot make the daemon hold an
 *   unbounded string;
 * - time limits: the headers within `HEADERS_TIMEOUT_MS`, the whole request within `REQUEST_TIMEOUT_MS`, and a
 *   connection silent for `IDLE_MS` is dropped, so a truncated request does not hold a connection forever;
 *   a server takes a bounded number of connections at once (`maxConnections`).
 *
 * Why 1 MiB: the largest body weft is sent is a network create or an endpoint registration, or Docker's
 * CreateNetwork with its labels: under 4 KiB. 1 MiB is 250 times that (long alias lists stay far inside),
 * and what a server holds is bounded by its connections times 1 MiB. Only the Unix sockets read bodies,
 * and only root (and the socket's group) can connect to them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isWeftError, messageOf, WeftError, type WeftCode } from '../errors/mod.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
/** The request line and headers must have arrived by then (Node's parser also caps them at 16 KiB). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request must have arrived by then: a 1 MiB body on a local socket takes milliseconds. */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A connection with no traffic either way for this long is dropped. Longer than any answer weft makes a
 * client wait for (a Docker Join waits up to 30 s for Docker's view; etcd calls time out in 10 s).
 */
export const IDLE_MS = 120_000;
/**
 * Connections at once, by default: room for a burst of CNI ADDs (each one short request to the API) on a
 * host starting hundreds of containers; one past it is closed at once, and the plugin's caller retries
 * (WEFT_TRY_AGAIN). The health port, the only one reachable from the network, takes fewer.
 */
export const MAX_CONNECTIONS = 1024;

/** weft's error answer, the one shape every weft client reads (pkg/contract/daemon-client.ts). */
export interface ErrorShape {
  readonly code: WeftCode;
  readonly message: string;
  readonly details?: string;
}

/** A refusal with the HTTP status to answer it with (400, 404, 413, ...). */
export class HttpError extends WeftError {
  readonly status: number;

  constructor(status: number, code: WeftCode, message: string, details?: string) {
    super(code, message, details === undefined ? {} : { details });
    this.status = status;
  }
}

/** The error shape of anything thrown: a WeftError keeps its code, anything else is WEFT_INTERNAL. */
export function errorShape(e: unknown): ErrorShape {
  if (!isWeftError(e)) return { code: 'WEFT_INTERNAL', message: messageOf(e) };
  return { code: e.code, message: e.message, ...(e.details && { details: e.details }) };
}

/** Text from a request, quoted for a message: at most 100 characters of it, so an answer never echoes a flood. */
export const quoted = (text: string): string => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);

/**
 * Past the limit, up to this much more of a body is read and thrown away before the 413 is sent, as nginx's
 * lingering close does: a server that answers and closes while the client is still sending makes the
 * client's write fail first, and most clients then never read the answer. Reading costs no memory (nothing
 * is kept) and REQUEST_TIMEOUT_MS bounds the time; a body declared larger than this is refused at once.
 */
export const DISCARD_BYTES = 16 * 1024 * 1024;

/**
 * The request's body, at most `limit` bytes, as UTF-8 (decoded once, whole: a character split between two
 * chunks stays whole). Over the limit it is a 413: once the rest is read and dropped (up to DISCARD_BYTES
 * more), on a connection that then carries on; or at once, the connection closed with the answer, when
 * the body is declared or turns out larger still.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const tooBig = () =>
    new HttpError(413, 'WEFT_INVALID_ARGUMENT', `the request body is larger than ${limit} bytes`, 'no request to weft needs as much');
  if (Number(req.headers['content-length'] ?? 0) > limit + DISCARD_BYTES) return Promise.reject(tooBig());
  // Events, not `for await`: leaving that loop early destroys the request, and the socket with it, before the
  // 413 could be written.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (f: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      f();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size <= limit + DISCARD_BYTES) chunks.length = 0;
      else {
        req.pause();
        settle(() => reject(tooBig()));
      }
    };
    const onEnd = () => settle(() => (size > limit ? reject(tooBig()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    const onError = (e: Error) => settle(() => reject(e));
    const onClose = () => settle(() => reject(new HttpError(400, 'WEFT_DECODE', 'the connection closed before the whole body arrived')));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** A JSON object body: empty (or `null`) is `{}`; anything else that is not a JSON object is a 400. */
export async function readJsonObject(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const text = await readBody(req, limit);
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'WEFT_DECODE', `the request body is not JSON: ${messageOf(e)}`);
  }
  if (v === null) return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new HttpError(400, 'WEFT_DECODE', 'the request body must be a JSON object');
}

/** The path and query of a request target; only origin-form (`/v1/...`) is taken, `//`, `/%` and all. */
export function requestTarget(raw: string | undefined): { pathname: string; query: URLSearchParams } {
  // Not `new URL(raw, base)`: it reads `//x` as a host and throws on `//`; a path here is only ever a path.
  if (raw === undefined || !raw.startsWith('/'))
    throw new HttpError(400, 'WEFT_DECODE', `the request target must be a path such as /v1/status, got ${quoted(raw ?? '')}`);
  const q = raw.indexOf('?');
  return { pathname: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** A percent-encoded path segment, decoded; a malformed escape (`%`, `%zz`) is a 400, not a URIError. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'WEFT_DECODE', `the path segment ${quoted(segment)} is not valid percent-encoding`);
  }
}

export interface GuardOptions {
  /** The body of an error answer, from weft's shape; Docker's server adds its `Err`. Default: the shape. */
  readonly errorBody?: (e: ErrorShape) => unknown;
  /** The status of an error that is not a HttpError (the API maps WEFT_NOT_FOUND to 404, ...). Default 500. */
  readonly statusOf?: (e: unknown) => number;
  /** Told of every error answered, for the log. */
  readonly onError?: (e: unknown, req: IncomingMessage) => void;
  /** Connections at once (MAX_CONNECTIONS by default). */
  readonly maxConnections?: number;
}

/** Answers `status` with `data` as JSON; a 4xx/5xx to a request not read to its end closes the connection. */
export function sendJson(res: ServerResponse, status: number, data: unknown, contentType = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(data)}\n`;
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(text) };
  // The rest of a refused body is not read: closing is the only way the next request on it parses right.
  if (status >= 400 && !res.req.complete) headers.connection = 'close';
  res.writeHead(status, headers).end(text);
}

/**
 * Runs `handler` for a request inside the boundary: a throw or a rejection is answered, never escapes.
 * An error thrown after the handler began its answer cannot be answered: that connection is destroyed.
 */
export function guard(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  o: GuardOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const fail = (req: IncomingMessage, res: ServerResponse, e: unknown) => {
    try {
      o.onError?.(e, req);
    } catch {
      // a logger that throws must not take the answer with it
    }
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = e instanceof HttpError ? e.status : (o.statusOf?.(e) ?? 500);
      const shape = errorShape(e);
      sendJson(res, status, o.errorBody ? o.errorBody(shape) : shape);
    } catch {
      res.destroy();
    }
  };
  return (req, res) => {
    let pending: void | Promise<void>;
    try {
      // Refused whatever the route: a handler that never reads its body would otherwise let Node read
      // (and discard) all of a declared gigabyte before the next request on the connection.
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) pending = readBody(req).then(() => undefined);
      else pending = handler(req, res);
    } catch (e) {
      fail(req, res, e);
      return;
    }
    if (pending) pending.catch((e: unknown) => fail(req, res, e));
  };
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
};

/**
 * What Node's HTTP parser could not read, answered in weft's shape and closed (Node's default answers a
 * bare 400 with no body). A connection already answering, or gone, is destroyed.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Socket, errorBody: GuardOptions['errorBody']): void {
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT' ? 408 : 400;
  const shape: ErrorShape = {
    code: 'WEFT_DECODE',
    message: status === 408 ? 'the request did not arrive in time' : `not an HTTP request weft can read (${err.code ?? messageOf(err)})`,
  };
  const body = `${JSON.stringify(errorBody ? errorBody(shape) : shape)}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/** An HTTP server with the boundary, the limits and the parser's refusals in weft's shape. Not yet listening. */
export function guardedServer(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>, o: GuardOptions = {}): Server {
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // How often Node checks the two timeouts above (default 30 s, which would let them run 30 s over).
      connectionsCheckingInterval: 1000,
    },
    guard(handler, o),
  );
  server.maxConnections = o.maxConnections ?? MAX_CONNECTIONS;
  server.timeout = IDLE_MS;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => onClientError(err, socket, o.errorBody));
  return server;
}
