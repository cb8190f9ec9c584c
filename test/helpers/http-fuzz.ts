/**
 * Malformed HTTP against one of weft's servers (issue 25), seeded so a failure can be run again: a fixed
 * corpus of known attacks (`GET //`, `/%`, bodies past the limit, bad JSON, truncated requests, garbage),
 * then byte-level mutations of a valid request. Each case is one connection: written, half-closed, and the
 * answer read until the server closes or `CASE_MS` passes. Prints one JSON line per case. Run where the
 * target is reachable (a health port inside a host's namespace: `ip netns exec`).
 *
 *   node test/helpers/http-fuzz.ts unix:/run/weft/weft.sock|tcp:HOST:PORT api|plugin|health SEED COUNT
 */
import { connect, type Socket } from 'node:net';

export type Surface = 'api' | 'plugin' | 'health';

export interface FuzzCase {
  readonly name: string;
  readonly bytes: Buffer;
  /** True when the request is malformed on purpose: the answer must be a 4xx (or the connection closed unanswered). */
  readonly malformed: boolean;
}

export interface FuzzResult {
  readonly name: string;
  readonly malformed: boolean;
  /** The answer's status, or null when the server closed without one (a body cut short by the client). */
  readonly status: number | null;
  /** The answer's body parsed as JSON, when it is JSON. */
  readonly json: unknown;
  readonly ms: number;
}

/** mulberry32: a small seeded PRNG, so a seed names one exact run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const req = (line: string, headers: string[] = [], body = ''): Buffer => {
  const all = [...headers, ...(body === '' ? [] : [`Content-Length: ${Buffer.byteLength(body)}`])];
  return Buffer.from(`${line}\r\nHost: weft\r\n${all.map((h) => `${h}\r\n`).join('')}\r\n${body}`);
};

const VALID: Record<Surface, Buffer> = {
  api: req('POST /v1/networks/RED/endpoints HTTP/1.1', ['Content-Type: application/json'], '{"name":"x","containerID":"c"}'),
  plugin: req(
    'POST /NetworkDriver.CreateNetwork HTTP/1.1',
    [],
    '{"NetworkID":"n","IPv4Data":[{"AddressSpace":"weft","Pool":"10.9.0.0/24"}]}',
  ),
  health: req('GET /readyz HTTP/1.1'),
};

const POST: Record<Surface, string> = { api: '/v1/networks', plugin: '/NetworkDriver.Join', health: '/healthz' };

/** The fixed corpus: each a way a real client (or attacker) has broken an HTTP server. */
export function corpus(surface: Surface): FuzzCase[] {
  const p = POST[surface];
  const big = 'a'.repeat(2 * 1024 * 1024);
  const m = (name: string, bytes: Buffer | string): FuzzCase => ({ name, bytes: Buffer.from(bytes), malformed: true });
  return [
    m('GET //', req('GET // HTTP/1.1')),
    m('GET /%', req('GET /% HTTP/1.1')),
    m('GET /v1/networks/%zz', req('GET /v1/networks/%zz HTTP/1.1')),
    m('DELETE /v1/networks/%/endpoints/%', req('DELETE /v1/networks/%/endpoints/% HTTP/1.1')),
    m('absolute-form target', req('GET http://evil.example/v1/status HTTP/1.1')),
    m('asterisk target', req('OPTIONS * HTTP/1.1')),
    m('a 20 KB path', req(`GET /${'x'.repeat(20_000)} HTTP/1.1`)),
    m('a 40 KB header', req('GET /v1/status HTTP/1.1', [`X-Big: ${'h'.repeat(40_000)}`])),
    m('a NUL in the path', req('GET /v1/\0status HTTP/1.1')),
    m('bad JSON', req(`POST ${p} HTTP/1.1`, [], '{"name": ')),
    m('JSON that is not an object', req(`POST ${p} HTTP/1.1`, [], '[1,2,3]')),
    m('JSON string', req(`POST ${p} HTTP/1.1`, [], '"x"')),
    m('invalid UTF-8 body', Buffer.concat([req(`POST ${p} HTTP/1.1`, ['Content-Length: 4']), Buffer.from([0xff, 0xfe, 0x7b, 0x7d])])),
    m('a declared 10 GB body', req(`POST ${p} HTTP/1.1`, ['Content-Length: 10737418240'], '')),
    m('a 2 MiB body', req(`POST ${p} HTTP/1.1`, [], `{"a":"${big}"}`)),
    m('a 2 MiB chunked body', chunked(p, big)),
    m('bad chunk size', `${req(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'])}zz\r\nabc\r\n0\r\n\r\n`),
    m('Content-Length and chunked (smuggling)', req(`POST ${p} HTTP/1.1`, ['Content-Length: 5', 'Transfer-Encoding: chunked'], '')),
    m('two Content-Lengths', req(`POST ${p} HTTP/1.1`, ['Content-Length: 2', 'Content-Length: 3'], '')),
    m('negative Content-Length', req(`POST ${p} HTTP/1.1`, ['Content-Length: -1'])),
    m('a request line cut short', 'GET /v1/sta'),
    m('headers cut short', 'GET /v1/status HTTP/1.1\r\nHost: we'),
    m('a body cut short', `${req(`POST ${p} HTTP/1.1`, ['Content-Length: 100'])}{"name":`),
    m('HTTP/0.9', 'GET /\r\n'),
    m('HTTP/9.9', req('GET /v1/status HTTP/9.9')),
    m('an unknown method', req('BREW /v1/status HTTP/1.1')),
    m('bare LF line ends', 'GET /v1/status HTTP/1.1\nHost: weft\n\n'),
    m('TLS ClientHello', Buffer.from('16030100a5010000a103031234', 'hex')),
    m('only garbage', Buffer.from('\x00\x01\x02\xff\xfe\r\n\r\n', 'latin1')),
  ];
}

function chunked(path: string, body: string): Buffer {
  const size = 64 * 1024;
  const parts: string[] = [];
  for (let i = 0; i < body.length; i += size) {
    const c = body.slice(i, i + size);
    parts.push(`${c.length.toString(16)}\r\n${c}\r\n`);
  }
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: weft\r\nTransfer-Encoding: chunked\r\n\r\n${parts.join('')}0\r\n\r\n`);
}

/** `count` mutations of the surface's valid request: bytes flipped, inserted, removed, or the request cut. */
export function mutations(surface: Surface, seed: number, count: number): FuzzCase[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const base = VALID[surface];
  return Array.from({ length: count }, (_, i) => {
    let b = Buffer.from(base);
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) {
      const at = int(b.length);
      const kind = int(4);
      if (kind === 0) b[at] = int(256);
      else if (kind === 1) b = Buffer.concat([b.subarray(0, at), Buffer.from([int(256)]), b.subarray(at)]);
      else if (kind === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      else b = b.subarray(0, Math.max(1, at));
    }
    return { name: `mutation ${seed}/${i}`, bytes: b, malformed: false };
  });
}

const CASE_MS = 5000;

/** One case on a new connection: the status and body of the answer, or null if none came. */
export function exchange(target: string, bytes: Buffer): Promise<FuzzResult & { raw: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const [kind, ...rest] = target.split(':');
    const sock: Socket = kind === 'unix' ? connect(rest.join(':')) : connect(Number(rest[1]), rest[0]);
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1];
      const split = raw.indexOf('\r\n\r\n');
      let json: unknown;
      try {
        json = split < 0 ? undefined : JSON.parse(raw.slice(split + 4));
      } catch {
        json = undefined;
      }
      resolve({ name: '', malformed: false, status: status === undefined ? null : Number(status), json, ms: performance.now() - t0, raw });
    };
    const timer = setTimeout(finish, CASE_MS);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', () => {}); // EPIPE or ECONNRESET after a refusal: the answer read so far stands
    sock.on('close', finish);
    // Half-close after writing: the server sees the request end here, as a client that gave up would.
    sock.on('connect', () => sock.end(bytes));
  });
}

export async function fuzz(target: string, surface: Surface, seed: number, count: number): Promise<FuzzResult[]> {
  const out: FuzzResult[] = [];
  for (const c of [...corpus(surface), ...mutations(surface, seed, count)]) {
    const r = await exchange(target, c.bytes);
    out.push({ name: c.name, malformed: c.malformed, status: r.status, json: r.json, ms: Math.round(r.ms) });
  }
  return out;
}

if (import.meta.main) {
  const [target, surface, seed, count] = process.argv.slice(2) as [string, Surface, string, string];
  for (const r of await fuzz(target, surface, Number(seed), Number(count))) process.stdout.write(`${JSON.stringify(r)}\n`);
}
