import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonCall } from './daemon-client.ts';
import { parseResponse, unixRequest } from './unix-http.ts';

describe('the HTTP client for the daemon socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-unix-http-'));
  const socket = join(dir, 'api.sock');
  let server: Server;
  beforeAll(
    () =>
      new Promise<void>((done) => {
        // Node's own server, as the daemon's API is: both a whole body and a chunked one.
        server = createServer((req, res) => {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => {
            if (req.url === '/chunked') {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.write('{"parts":');
              res.end('["é","b"]}');
            } else if (req.url === '/slow') {
              setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"late":true}'), 200);
            } else if (req.url === '/fail') {
              res.writeHead(409, { 'content-type': 'application/json' }).end('{"code":"WEFT_NAME_IN_USE","message":"name x is in use"}');
            } else {
              res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, body }));
            }
          });
        }).listen(socket, done);
      }),
  );
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the method, path and JSON body, and reads a whole answer', async () => {
    const r = await unixRequest(socket, 'POST', '/v1/x?y=1', '{"a":"ü"}', 5000);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ method: 'POST', url: '/v1/x?y=1', body: '{"a":"ü"}' });
  });

  it('waits for an answer the server takes its time over', async () => {
    expect(await daemonCall(socket, 'POST', '/slow', { a: 1 })).toEqual({ late: true });
  });

  it('decodes a chunked answer', async () => {
    expect(await daemonCall(socket, 'GET', '/chunked')).toEqual({ parts: ['é', 'b'] });
  });

  it("turns the daemon's error answer into its typed error", async () => {
    await expect(daemonCall(socket, 'GET', '/fail')).rejects.toMatchObject({ code: 'WEFT_NAME_IN_USE', message: 'name x is in use' });
  });

  it('says the daemon is not running when there is no socket', async () => {
    await expect(daemonCall(join(dir, 'none.sock'), 'GET', '/')).rejects.toMatchObject({
      code: 'WEFT_TRY_AGAIN',
      message: expect.stringContaining('is not running (no socket at'),
    });
  });

  it('refuses a truncated or status-less answer', () => {
    expect(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3'))).toThrow(/before a whole answer/);
    expect(() => parseResponse(Buffer.from('hello\r\n\r\n'))).toThrow(/no HTTP status line/);
    expect(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'))).toThrow(/truncated|chunk/);
  });
});
