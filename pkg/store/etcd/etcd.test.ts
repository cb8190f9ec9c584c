import { describe, expect, it } from 'vitest';
import { b64, decodeEvent, encodeCompare, encodeOp, LineSplitter, prefixEnd, unb64 } from './codec.ts';
import { parseEndpoint, parseEndpoints } from './endpoint.ts';
import { answerFailure, DEADLINE, socketFailure, type FailureContext } from './failure.ts';

describe('parseEndpoint()', () => {
  it("takes flanneld's forms: http, https (name, IPv4, bracketed IPv6), unix with one or three slashes", () => {
    expect(parseEndpoint('http://127.0.0.1:2379')).toEqual({ kind: 'http', url: 'http://127.0.0.1:2379', host: '127.0.0.1', port: 2379 });
    expect(parseEndpoint('https://etcd.example')).toEqual({ kind: 'https', url: 'https://etcd.example', host: 'etcd.example', port: 2379 });
    expect(parseEndpoint('https://[fd00::5]:4001')).toMatchObject({ kind: 'https', host: 'fd00::5', port: 4001 });
    expect(parseEndpoint('unix:///run/etcd.sock')).toEqual({ kind: 'unix', url: 'unix:///run/etcd.sock', socketPath: '/run/etcd.sock' });
    expect(parseEndpoint('unix:/tmp/x/etcd.sock:1')).toMatchObject({ socketPath: '/tmp/x/etcd.sock:1' });
  });

  it('refuses other schemes, paths, credentials and relative sockets, naming the endpoint and what to use', () => {
    expect(() => parseEndpoint('ftp://10.0.0.5:2379')).toThrow(
      'etcd endpoint ftp://10.0.0.5:2379: scheme ftp is not supported; use http, https or unix',
    );
    expect(() => parseEndpoint('10.0.0.5:2379')).toThrow(/scheme 10.0.0.5 is not supported|is not a URL/);
    expect(() => parseEndpoint('http://10.0.0.5:2379/v3')).toThrow('give only scheme, host and port');
    expect(() => parseEndpoint('http://u:p@10.0.0.5:2379')).toThrow('--etcd-username');
    expect(() => parseEndpoint('unix://etcd.sock')).toThrow('absolute path');
    expect(() => parseEndpoints([])).toThrow('no etcd endpoint given');
    expect(parseEndpoints(['http://a:1,http://b:2', 'http://c:3']).map((e) => e.url)).toEqual(['http://a:1', 'http://b:2', 'http://c:3']);
  });
});

describe('codec', () => {
  it('computes the range end of a prefix as etcd does, carrying over 0xff', () => {
    expect(unb64(prefixEnd('/a/'))).toBe('/a0');
    expect(Buffer.from(prefixEnd('a\u00ff'), 'base64')).toEqual(Buffer.from([0x61, 0xc3, 0xc0]));
    expect(Buffer.from(prefixEnd(Buffer.from([0xff]).toString('latin1')), 'base64').length).toBeGreaterThan(0);
  });

  it("encodes comparisons and operations in the gateway's JSON", () => {
    expect(encodeCompare({ key: 'k', target: 'version', op: '==', value: 0 })).toEqual({
      key: b64('k'),
      target: 'VERSION',
      result: 'EQUAL',
      version: '0',
    });
    expect(encodeCompare({ key: 'k', target: 'mod', op: '==', value: '42' })).toEqual({
      key: b64('k'),
      target: 'MOD',
      result: 'EQUAL',
      mod_revision: '42',
    });
    expect(encodeCompare({ key: 'k', target: 'value', op: '!=', value: 'v' })).toEqual({
      key: b64('k'),
      target: 'VALUE',
      result: 'NOT_EQUAL',
      value: b64('v'),
    });
    expect(encodeOp({ put: 'k', value: 'v', lease: '0' })).toEqual({ request_put: { key: b64('k'), value: b64('v') } });
    expect(encodeOp({ put: 'k', value: 'v', lease: '7' })).toEqual({ request_put: { key: b64('k'), value: b64('v'), lease: '7' } });
    expect(encodeOp({ deletePrefix: '/p/' })).toEqual({ request_delete_range: { key: b64('/p/'), range_end: b64('/p0') } });
  });

  it('decodes events with proto3 defaults: no type is a PUT, no lease is "0"', () => {
    expect(decodeEvent({ kv: { key: b64('k'), value: b64('v'), mod_revision: '5' } })).toEqual({
      type: 'put',
      kv: { key: 'k', value: 'v', lease: '0', modRevision: '5', createRevision: '0', version: '0' },
    });
    expect(decodeEvent({ type: 'DELETE', kv: { key: b64('k'), mod_revision: '6' } })).toEqual({
      type: 'delete',
      key: 'k',
      modRevision: '6',
    });
  });

  it('splits a stream into whole lines whatever the chunking', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n')).toEqual(['{"b":2}']);
  });
});

describe('failure descriptions', () => {
  const ctx: FailureContext = {
    endpoint: 'https://192.0.2.100:2379',
    timeoutMs: 5000,
    clientCert: true,
    username: undefined,
    connected: false,
  };

  it('names the endpoint and the cause of each TLS failure, with the flag to fix', () => {
    const cases: Array<[string, RegExp]> = [
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /not signed by a trusted CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); check --etcd-cafile/],
      ['CERT_HAS_EXPIRED', /certificate has expired/],
      ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', /refused this host's client certificate .*--etcd-certfile/],
      ['ERR_SSL_WRONG_VERSION_NUMBER', /does not speak TLS there; use http:\/\/192.0.2.100:2379/],
    ];
    for (const [code, msg] of cases) {
      const f = socketFailure(ctx, Object.assign(new Error('x'), { code }));
      expect(f.error.code).toBe('WEFT_STORE_TLS');
      expect(f.error.message).toMatch(/^etcd at https:\/\/192.0.2.100:2379: /);
      expect(f.error.message).toMatch(msg);
      expect(f.retry).toBe('unsent');
    }
    const alt = socketFailure(
      ctx,
      Object.assign(new Error('x'), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        reason: "Host: 192.0.2.100. is not in the cert's altnames: IP Address:192.0.2.99",
      }),
    );
    expect(alt.error.message).toBe(
      'etcd at https://192.0.2.100:2379: its certificate is not for this address (it names IP Address:192.0.2.99); ' +
        'use an endpoint the certificate names',
    );
    const noCert = socketFailure(
      { ...ctx, clientCert: false },
      Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }),
    );
    expect(noCert.error.message).toMatch(/requires a client certificate; set --etcd-certfile and --etcd-keyfile/);
  });

  it('tells unreachable from slow, and whether a write may be sent elsewhere', () => {
    const refused = socketFailure(ctx, Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(refused).toMatchObject({
      retry: 'unsent',
      error: {
        code: 'WEFT_STORE_UNAVAILABLE',
        message: 'etcd at https://192.0.2.100:2379 is unreachable (ECONNREFUSED: connection refused)',
      },
    });
    expect(socketFailure({ ...ctx, connected: true }, { code: DEADLINE })).toMatchObject({
      retry: 'unhealthy',
      error: { message: 'etcd at https://192.0.2.100:2379 did not answer within 5 s' },
    });
    expect(socketFailure(ctx, { code: DEADLINE }).retry).toBe('unsent');
    expect(socketFailure(ctx, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).retry).toBe('unhealthy');
  });

  it("reads the gateway's answers: no leader, auth, permission, anything else", () => {
    const body = (code: number, message: string) => JSON.stringify({ error: message, message, code });
    expect(answerFailure(ctx, 503, body(14, 'etcdserver: no leader'))).toMatchObject({
      retry: 'unsent',
      error: { code: 'WEFT_STORE_UNAVAILABLE' },
    });
    expect(answerFailure(ctx, 503, body(14, 'etcdserver: request timed out')).retry).toBe('unhealthy');
    expect(
      answerFailure({ ...ctx, username: 'weft' }, 400, body(3, 'etcdserver: authentication failed, invalid user ID or password')).error
        .message,
    ).toBe('etcd at https://192.0.2.100:2379 refused user weft: wrong user name or password');
    expect(answerFailure(ctx, 400, body(3, 'etcdserver: user name is empty')).error.message).toMatch(
      /requires authentication; set --etcd-username/,
    );
    expect(answerFailure({ ...ctx, username: 'weft' }, 403, body(7, 'etcdserver: permission denied'))).toMatchObject({
      retry: 'final',
      error: { code: 'WEFT_STORE_AUTH' },
    });
    expect(answerFailure(ctx, 400, 'Client sent an HTTP request to an HTTPS server.\n').error.message).toMatch(
      /expects TLS; use https:\/\//,
    );
    expect(answerFailure(ctx, 404, '404 page not found').error.message).toMatch(/no v3 JSON gateway/);
    expect(answerFailure(ctx, 400, body(3, 'etcdserver: key is not provided'))).toMatchObject({
      retry: 'final',
      error: { code: 'WEFT_STORE', message: expect.stringContaining('key is not provided') },
    });
  });
});
