/**
 * One HTTP/1.1 request to the local daemon over its Unix socket, written over node:net by hand. node:http
 * would do it, but loading it costs a CNI invocation about 20 ms (measured: a cold process making one request
 * takes 25 ms longer with node:http, 7 ms with this), and every ADD and DEL on a named network makes one.
 * The subset is small because both ends are weft's: one request per connection (`Connection: close`), the
 * body read to the end, chunked transfer decoded if the server chose it.
 */

export interface UnixResponse {
  readonly status: number;
  readonly body: string;
}

export function unixRequest(
  socketPath: string,
  method: string,
  path: string,
  payload: string | undefined,
  timeoutMs: number,
): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Loaded here, not with the module: an ADD on the default network never calls the daemon.
    const sock = process.getBuiltinModule('node:net').createConnection(socketPath);
    sock.setTimeout(timeoutMs, () =>
      sock.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    sock.on('connect', () => {
      const body = payload === undefined ? '' : payload;
      // write, not end: a half-closed connection lets Node's server drop a request it has not answered yet.
      sock.write(
        `${method} ${path} HTTP/1.1\r\nHost: weft\r\nConnection: close\r\n` +
          (payload === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) +
          `\r\n${body}`,
      );
    });
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', reject);
    sock.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Parses a whole HTTP/1.1 response (the server closed the connection after it). */
export function parseResponse(raw: Buffer): UnixResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('the daemon closed the connection before a whole answer');
  const head = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
  if (!Number.isInteger(status)) throw new Error(`the daemon answered with no HTTP status line: ${head[0]}`);
  const chunked = head.some((h) => /^transfer-encoding:\s*chunked\s*$/i.test(h));
  const rest = raw.subarray(split + 4);
  return { status, body: (chunked ? dechunk(rest) : rest).toString('utf8') };
}

function dechunk(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) throw new Error('the daemon sent a truncated chunked answer');
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('the daemon sent a malformed chunk');
    if (size === 0) return Buffer.concat(parts);
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
