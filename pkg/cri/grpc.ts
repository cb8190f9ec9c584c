/**
 * Unary gRPC calls over HTTP/2 on a Unix socket (what kubelet does to reach a container runtime), with
 * node:http2 and nothing else. A call is one HTTP/2 stream: a POST to `/<package>.<Service>/<Method>` with
 * `content-type: application/grpc` and `te: trailers`, the request as one length-prefixed message (a zero
 * "compressed" byte, a 4-byte big-endian length, the protobuf bytes), the answer the same way, and the outcome
 * in the `grpc-status`/`grpc-message` trailers (in the headers, for a "trailers-only" error answer).
 * (gRPC's PROTOCOL-HTTP2.md.) Streaming calls, compression and TLS are left out: nothing here needs them.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';

/** gRPC status codes (the ones a caller may want to tell apart), by number. */
export const GRPC_CODE: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  9: 'FAILED_PRECONDITION',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
};

/** A call that ended with a gRPC status other than OK, or never reached the server (code 14, UNAVAILABLE). */
export class GrpcError extends Error {
  readonly code: number;
  readonly method: string;

  constructor(method: string, code: number, message: string, opts?: { cause?: unknown }) {
    super(`${method}: ${GRPC_CODE[code] ?? `code ${code}`}: ${message}`, opts);
    this.name = 'GrpcError';
    this.code = code;
    this.method = method;
  }
}

/** One connection to a gRPC server's Unix socket, made on the first call and again after the server went away. */
export class GrpcChannel {
  readonly socketPath: string;
  #session: ClientHttp2Session | undefined;
  /** Calls in flight: the session keeps the process alive only while there are some. */
  #busy = 0;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  #open(): ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = connect('http://localhost', { createConnection: () => createConnection(this.socketPath) });
    // A broken connection fails the calls on it (their streams see the error); the next call connects again.
    session.on('error', () => {});
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.unref();
    this.#session = session;
    return session;
  }

  /** Sends one request message to `method` (`/runtime.v1.RuntimeService/Version`) and returns the answer's bytes. */
  unary(method: string, request: Uint8Array, timeoutMs = 60_000): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.#open();
      } catch (e) {
        reject(new GrpcError(method, 14, (e as Error).message, { cause: e }));
        return;
      }
      if (this.#busy++ === 0) session.ref();
      // Settles once: a timeout, a stream error and the stream's close may all happen to one call.
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--this.#busy === 0 && !session.destroyed) session.unref();
        outcome();
      };
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: method,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      });
      const timer = setTimeout(() => {
        settle(() => reject(new GrpcError(method, 4, `no answer within ${timeoutMs / 1000} s`)));
        stream.close(constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        headers = h;
      });
      stream.on('trailers', (t) => {
        trailers = t;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => {
        settle(() => reject(new GrpcError(method, 14, `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim(), { cause: e })));
      });
      stream.on('close', () =>
        settle(() => {
          const status = trailers['grpc-status'] ?? headers['grpc-status'];
          const message = String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '');
          if (status === undefined) {
            const http = headers[constants.HTTP2_HEADER_STATUS];
            reject(new GrpcError(method, 14, `the stream closed without a gRPC status (HTTP ${http ?? 'none'}, reset ${stream.rstCode})`));
          } else if (Number(status) !== 0) reject(new GrpcError(method, Number(status), percentDecode(message)));
          else {
            try {
              resolve(unframe(Buffer.concat(chunks)));
            } catch (e) {
              reject(new GrpcError(method, 13, (e as Error).message));
            }
          }
        }),
      );
      stream.end(frame(request));
    });
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }
}

/** A message as gRPC sends it: not compressed (0), its length (big-endian uint32), its bytes. */
export function frame(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

/** The one message of a unary answer. */
export function unframe(body: Buffer): Uint8Array {
  if (body.length < 5) throw new Error(`the answer has ${body.length} bytes, not a whole gRPC message`);
  if (body[0] !== 0) throw new Error('the answer is compressed; no compression was offered');
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) throw new Error(`the answer has ${body.length - 5} bytes after its prefix, which announces ${len}`);
  return body.subarray(5);
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md); a malformed one is shown as sent. */
function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
