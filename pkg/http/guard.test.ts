import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WeftError } from '../errors/mod.ts';
import {
  DISCARD_BYTES,
  decodeSegment,
  guardedServer,
  HttpError,
  MAX_BODY_BYTES,
  readJsonObject,
  requestTarget,
  sendJson,
} from './guard.ts';
import { listenUnix } from './unix-listen.ts';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function serve(handler: Parameters<typeof guardedServer>[0]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-http-'));
  const socket = join(dir, 's.sock');
  const server = guardedServer(handler);
  await listenUnix(server, socket);
  cleanup.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

/** Writes `raw`, half-closes, and returns what came back before the server closed. */
const exchange = (socket: string, raw: string | Buffer): Promise<string> =>
  new Promise((resolve) => {
    const s = connect(socket, () => s.end(raw));
    let got = '';
    s.on('data', (d) => {
      got += String(d);
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown;

describe('requestTarget() and decodeSegment()', () => {
  it('takes every origin-form path, `//` and `/%` included, and refuses the rest with a 400', () => {
    expect(requestTarget('//').pathname).toBe('//');
    expect(requestTarget('/%').pathname).toBe('/%');
    expect(requestTarget('/v1/status?verbose=1&x=%').query.get('verbose')).toBe('1');
    for (const bad of ['http://evil/v1/status', '*', '', undefined]) expect(() => requestTarget(bad)).toThrow(HttpError);
  });

  it('decodes a segment, and answers a malformed escape with a 400 instead of a URIError', () => {
    expect(decodeSegment('a%20b')).toBe('a b');
    expect(() => decodeSegment('%')).toThrow(expect.objectContaining({ status: 400, code: 'WEFT_DECODE' }));
  });
});

describe('guardedServer() (issue 25)', () => {
  it('answers a handler that throws, synchronously or not, in weft’s shape; a HttpError with its status', async () => {
    const socket = await serve(async (req, res) => {
      if (req.url === '/sync') throw new Error('boom');
      if (req.url === '/weft') throw new WeftError('WEFT_NOT_FOUND', 'no such thing');
      if (req.url === '/http') throw new HttpError(418, 'WEFT_INVALID_ARGUMENT', 'short and stout');
      await Promise.resolve();
      if (req.url === '/async') throw new Error('later');
      sendJson(res, 200, { ok: true });
    });
    const sync = await exchange(socket, 'GET /sync HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([statusOf(sync), bodyOf(sync)]).toEqual([500, { code: 'WEFT_INTERNAL', message: 'boom' }]);
    expect(statusOf(await exchange(socket, 'GET /async HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(500);
    expect(bodyOf(await exchange(socket, 'GET /weft HTTP/1.1\r\nHost: x\r\n\r\n'))).toEqual({
      code: 'WEFT_NOT_FOUND',
      message: 'no such thing',
    });
    expect(statusOf(await exchange(socket, 'GET /http HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(418);
    expect(statusOf(await exchange(socket, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(200);
  });

  it('refuses a body over the limit with 413: after reading it to its end, or at once and closing past DISCARD_BYTES', async () => {
    const socket = await serve(async (req, res) => sendJson(res, 200, await readJsonObject(req)));
    const declared = await exchange(
      socket,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_BODY_BYTES + DISCARD_BYTES + 1}\r\n\r\n{}`,
    );
    expect(statusOf(declared)).toBe(413);
    expect(declared).toMatch(/\r\nconnection: close\r\n/i);
    const chunk = 'a'.repeat(64 * 1024);
    const chunks = `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(20);
    const streamed = await exchange(socket, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    expect(bodyOf(streamed)).toMatchObject({ code: 'WEFT_INVALID_ARGUMENT' });
    expect(statusOf(streamed)).toBe(413);
  });

  it('answers a body that is not a JSON object with 400 WEFT_DECODE', async () => {
    const socket = await serve(async (req, res) => sendJson(res, 200, await readJsonObject(req)));
    for (const body of ['{"a":', '[1]', '"x"', '7']) {
      const answer = await exchange(socket, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      expect([statusOf(answer), (bodyOf(answer) as { code: string }).code]).toEqual([400, 'WEFT_DECODE']);
    }
    expect(bodyOf(await exchange(socket, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'))).toEqual({});
  });

  it('answers what is not HTTP with 400 in weft’s shape, and a header flood with 431', async () => {
    const socket = await serve((_req, res) => sendJson(res, 200, {}));
    const garbage = await exchange(socket, Buffer.from([0, 1, 2, 0xff, 13, 10, 13, 10]));
    expect([statusOf(garbage), (bodyOf(garbage) as { code: string }).code]).toEqual([400, 'WEFT_DECODE']);
    expect(statusOf(await exchange(socket, `GET / HTTP/1.1\r\nX: ${'h'.repeat(40_000)}\r\n\r\n`))).toBe(431);
  });
});

describe('listenUnix()', () => {
  it('creates the socket 0700 under any umask, then opens it to `mode`, and restores the umask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-http-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 's.sock');
    const server: Server = guardedServer(() => {});
    cleanup.push(() => server.close());
    let atBind = 0;
    const listen = server.listen.bind(server);
    server.listen = ((...args: Parameters<typeof listen>) => {
      const r = listen(...args);
      atBind = statSync(socket).mode & 0o777; // bind(2) has run: this is the mode the socket was born with
      return r;
    }) as typeof server.listen;
    const before = process.umask(0);
    try {
      await listenUnix(server, socket, 0o660);
      expect(process.umask()).toBe(0);
    } finally {
      process.umask(before);
    }
    expect(atBind).toBe(0o700);
    expect(statSync(socket).mode & 0o777).toBe(0o660);
  });
});
