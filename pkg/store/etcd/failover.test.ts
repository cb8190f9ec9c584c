/**
 * The client's failover rules (client.ts), case by case, over scripted transports: each endpoint answers from
 * one in-memory etcd (testing/memory-kv.ts) unless its script says it fails, and how. What is checked is the
 * client's choice: which endpoint a request goes to next, what a write does when it may have been applied,
 * and where the client stays afterwards.
 */
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../errors/mod.ts';
import { b64, unb64, type KeyValue } from './codec.ts';
import { EtcdClient, type EtcdOptions } from './client.ts';
import type { Endpoint } from './endpoint.ts';
import { DEADLINE } from './failure.ts';
import { MemoryKv } from './testing/memory-kv.ts';
import { SendError, type EtcdTransport, type Reply, type SendOptions, type TlsMaterial } from './transport.ts';

/** How one request to an endpoint ends, when it does not simply answer. */
type Outcome =
  | 'answer'
  | 'refused'
  | 'deadline before connecting'
  | 'deadline after sending'
  | 'reset'
  | { readonly status: number; readonly body: string };

const gatewayError = (code: number, message: string) => ({ status: 503, body: JSON.stringify({ error: message, message, code }) });

const wire = (kv: KeyValue) => ({
  key: b64(kv.key),
  value: b64(kv.value),
  mod_revision: kv.modRevision,
  create_revision: kv.createRevision,
  version: kv.version,
});

/** The gateway's JSON for the few calls these tests make, answered from the shared in-memory etcd. */
async function answer(kv: MemoryKv, path: string, body: Record<string, string>): Promise<Reply> {
  const ok = (j: object): Reply => ({ status: 200, body: JSON.stringify({ header: { revision: String(kv.revision) }, ...j }) });
  switch (path) {
    case '/v3/kv/range': {
      const key = unb64(body.key);
      const kvs = body.range_end ? (await kv.getPrefix(key)).kvs : [await kv.get(key)].flatMap((x) => x ?? []);
      return ok({ kvs: kvs.map(wire), count: String(kvs.length) });
    }
    case '/v3/kv/put':
      await kv.put(unb64(body.key), unb64(body.value));
      return ok({});
    case '/v3/auth/authenticate':
      return ok({ token: `token-for-${body.name}` });
    default:
      throw new Error(`the test gateway does not answer ${path}`);
  }
}

class ScriptedTransport implements EtcdTransport {
  readonly endpoint: Endpoint;
  readonly tls: TlsMaterial | undefined;
  /** Each request's path and token, in order. */
  readonly requests: Array<{ readonly path: string; readonly token: string | undefined }> = [];
  /** How the next requests end, first to last; once empty, every request ends as `otherwise`. */
  readonly script: Outcome[] = [];
  otherwise: Outcome = 'answer';
  closed = false;
  readonly #kv: MemoryKv;

  constructor(endpoint: Endpoint, tls: TlsMaterial | undefined, kv: MemoryKv) {
    this.endpoint = endpoint;
    this.tls = tls;
    this.#kv = kv;
  }

  async send(path: string, body: unknown, o: SendOptions): Promise<Reply> {
    this.requests.push({ path, token: o.token });
    const out = this.script.shift() ?? this.otherwise;
    const code = (c: string) => Object.assign(new Error(c), { code: c });
    if (out === 'refused') throw new SendError(code('ECONNREFUSED'), false);
    if (out === 'deadline before connecting') throw new SendError(code(DEADLINE), false);
    if (out === 'deadline after sending') throw new SendError(code(DEADLINE), true);
    if (out === 'reset') throw new SendError(code('ECONNRESET'), true);
    if (out !== 'answer') return out;
    if (path === '/v3/watch') return this.#watch(o);
    return answer(this.#kv, path, body as Record<string, string>);
  }

  /** A watch etcd confirms and then holds open until the client lets go of it. */
  #watch(o: SendOptions): Promise<Reply> {
    o.onLine?.(JSON.stringify({ result: { created: true, header: { revision: String(this.#kv.revision) } } }));
    return new Promise((_, reject) =>
      o.signal?.addEventListener('abort', () => reject(new SendError(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }), true))),
    );
  }

  close(): void {
    this.closed = true;
  }
}

/** A client over three endpoints a, b and c of one in-memory etcd, with what it reported. */
function cluster(o: Partial<EtcdOptions> = {}) {
  const kv = new MemoryKv();
  const t: ScriptedTransport[] = [];
  const switches: string[] = [];
  const client = new EtcdClient({
    endpoints: ['http://a:2379', 'http://b:2379', 'http://c:2379'],
    healthCheckMs: 0,
    onSwitch: (to, why) => switches.push(`${to}: ${why}`),
    transport: (e, tls) => {
      const s = new ScriptedTransport(e, tls, kv);
      t.push(s);
      return s;
    },
    ...o,
  });
  const [a, b, c] = t as [ScriptedTransport, ScriptedTransport, ScriptedTransport];
  const current = () => client.state().find((s) => s.current)?.endpoint;
  return { kv, client, a, b, c, switches, current };
}

describe('EtcdClient failover', () => {
  it('sends every request to the first endpoint while it answers', async () => {
    const { client, a, b, current } = cluster();
    await client.put('/k', 'v');
    expect((await client.get('/k'))?.value).toBe('v');
    expect(a.requests.map((r) => r.path)).toEqual(['/v3/kv/put', '/v3/kv/range']);
    expect(b.requests).toEqual([]);
    expect(current()).toBe('http://a:2379');
  });

  it('moves a read to the next endpoint when the connection is refused, and stays there', async () => {
    const { kv, client, a, b, c, switches, current } = cluster();
    await kv.put('/k', 'v');
    a.otherwise = 'refused';
    expect((await client.get('/k'))?.value).toBe('v');
    expect(current()).toBe('http://b:2379');
    expect(switches).toEqual(['http://b:2379: etcd at http://a:2379 is unreachable (ECONNREFUSED: connection refused)']);
    // The next request starts where the client now is: a is not asked again while b answers.
    await client.get('/k');
    expect([a.requests.length, b.requests.length, c.requests.length]).toEqual([1, 2, 0]);
  });

  it('moves a write when the connection is refused: the request never reached etcd', async () => {
    const { kv, client, a, b } = cluster();
    a.otherwise = 'refused';
    await client.put('/k', 'v');
    expect(b.requests.map((r) => r.path)).toEqual(['/v3/kv/put']);
    expect((await kv.get('/k'))?.value).toBe('v');
  });

  it('moves a write whose deadline passed before it was connected', async () => {
    const { client, a, b, current } = cluster();
    a.script.push('deadline before connecting');
    await client.put('/k', 'v');
    expect(b.requests.map((r) => r.path)).toEqual(['/v3/kv/put']);
    expect(current()).toBe('http://b:2379');
  });

  it('does not move a write whose deadline passed after it was sent: it may have been applied', async () => {
    const { client, a, b, current } = cluster();
    a.script.push('deadline after sending');
    await expect(client.put('/k', 'v')).rejects.toMatchObject({
      code: 'WEFT_STORE_UNAVAILABLE',
      message: 'etcd at http://a:2379 did not answer within 5 s',
    });
    expect(b.requests).toEqual([]);
    expect(current()).toBe('http://a:2379');
    expect(client.state()[0]!.lastError).toBe('etcd at http://a:2379 did not answer within 5 s');
  });

  it('does not move a write whose connection was reset mid-request', async () => {
    const { client, a, b } = cluster();
    a.script.push('reset');
    await expect(client.put('/k', 'v')).rejects.toMatchObject({ code: 'WEFT_STORE_UNAVAILABLE', message: /ECONNRESET/ });
    expect(b.requests).toEqual([]);
  });

  it('moves a read on a deadline after sending or a reset: reading twice does no harm', async () => {
    const { kv, client, a, b, c, current } = cluster();
    await kv.put('/k', 'v');
    a.script.push('deadline after sending');
    b.script.push('reset');
    expect((await client.get('/k'))?.value).toBe('v');
    expect([a.requests.length, b.requests.length, c.requests.length]).toEqual([1, 1, 1]);
    expect(current()).toBe('http://c:2379');
  });

  it('treats an HTTP 503 from a member that timed out as unhealthy: reads move, writes do not', async () => {
    const { kv, client, a, b } = cluster();
    await kv.put('/k', 'v');
    a.script.push(gatewayError(14, 'etcdserver: request timed out'));
    expect((await client.get('/k'))?.value).toBe('v');
    expect(b.requests).toHaveLength(1);

    const w = cluster();
    w.a.script.push(gatewayError(14, 'etcdserver: request timed out'));
    await expect(w.client.put('/k', 'v')).rejects.toMatchObject({ code: 'WEFT_STORE_UNAVAILABLE', message: /cannot serve now/ });
    expect(w.b.requests).toEqual([]);
  });

  it('moves a write that etcd refused with "no leader": it was answered before anything was proposed', async () => {
    const { kv, client, a, b, current } = cluster();
    a.script.push(gatewayError(14, 'etcdserver: no leader'));
    await client.put('/k', 'v');
    expect(b.requests.map((r) => r.path)).toEqual(['/v3/kv/put']);
    expect((await kv.get('/k'))?.value).toBe('v');
    expect(current()).toBe('http://b:2379');
  });

  it("takes etcd's refusal of the request itself as final, for reads too: no other member would answer otherwise", async () => {
    const { client, a, b, current } = cluster({ username: 'weft', password: 'x' });
    a.script.push(
      { status: 200, body: '{"token":"t"}' },
      { status: 403, body: JSON.stringify({ code: 7, message: 'etcdserver: permission denied' }) },
    );
    await expect(client.get('/k')).rejects.toMatchObject({ code: 'WEFT_STORE_AUTH', message: /user weft is not allowed this/ });
    expect(b.requests).toEqual([]);
    expect(current()).toBe('http://a:2379');
    // An HTTP 500 that is not the gateway's JSON (a proxy's page) is read as a refusal too.
    const p = cluster();
    p.a.script.push({ status: 500, body: 'Internal Server Error' });
    await expect(p.client.get('/k')).rejects.toMatchObject({ code: 'WEFT_STORE', message: /refused the request: Internal Server Error/ });
    expect(p.b.requests).toEqual([]);
  });

  it('authenticates again on the same endpoint, once, when etcd says the token expired', async () => {
    const { kv, client, a, b } = cluster({ username: 'weft', password: 'x' });
    await kv.put('/k', 'v');
    a.script.push('answer', { status: 401, body: JSON.stringify({ code: 16, message: 'etcdserver: invalid auth token' }) });
    expect((await client.get('/k'))?.value).toBe('v');
    expect(a.requests).toEqual([
      { path: '/v3/auth/authenticate', token: undefined },
      { path: '/v3/kv/range', token: 'token-for-weft' },
      { path: '/v3/auth/authenticate', token: undefined },
      { path: '/v3/kv/range', token: 'token-for-weft' },
    ]);
    expect(b.requests).toEqual([]);
  });

  it('tries each endpoint once, in order, when all are down, and says what each did', async () => {
    const { client, a, b, c, current } = cluster();
    a.otherwise = 'refused';
    b.otherwise = 'deadline before connecting';
    c.otherwise = gatewayError(14, 'etcdserver: not started');
    await expect(client.put('/k', 'v')).rejects.toMatchObject({
      code: 'WEFT_STORE_UNAVAILABLE',
      message:
        'no etcd endpoint answered: etcd at http://a:2379 is unreachable (ECONNREFUSED: connection refused); ' +
        'etcd at http://b:2379 did not answer within 5 s; etcd at http://c:2379 cannot serve now (etcdserver: not started)',
    });
    expect([a.requests.length, b.requests.length, c.requests.length]).toEqual([1, 1, 1]);
    expect(current()).toBe('http://a:2379');
  });

  it('starts after a failover from the endpoint it moved to, wrapping round to the first', async () => {
    const { client, a, b, c, current } = cluster();
    a.script.push('refused');
    b.script.push('refused');
    await client.get('/k');
    expect(current()).toBe('http://c:2379');
    c.script.push('refused');
    await client.get('/k');
    expect(current()).toBe('http://a:2379');
    expect([a.requests.length, b.requests.length, c.requests.length]).toEqual([2, 1, 2]);
  });

  it('ends a watch on the endpoint the client leaves, so its owner lists again where the client now is', async () => {
    const { client, a } = cluster();
    const ends: string[] = [];
    await client.watchPrefix('/p/', '1', { events: () => {}, end: (why) => ends.push(why.kind === 'ended' ? why.reason : why.kind) });
    a.script.push('refused');
    await client.get('/k');
    expect(ends).toEqual(['the client moved to http://b:2379 (etcd at http://a:2379 is unreachable (ECONNREFUSED: connection refused))']);
  });

  it("gives every endpoint's transport the client's TLS files, and moves on when they cannot be read", async () => {
    const files = { caFile: '/nonexistent/ca.pem', certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem' };
    const { a, b, c } = cluster({ ...files, endpoints: ['https://a:2379', 'https://b:2379', 'https://c:2379'] });
    for (const t of [a, b, c]) expect(t.tls?.files).toEqual(files);
    expect(a.tls).toBe(b.tls);
    expect(a.tls?.clientCert).toBe(true);
    expect(() => a.tls?.current()).toThrow(/cannot read the etcd CA file \/nonexistent\/ca.pem/);
    expect(cluster().a.tls).toBeUndefined();
    expect(() => cluster({ certFile: '/c.pem' })).toThrow(/needs both --etcd-certfile and --etcd-keyfile/);
  });

  it('moves even a write past an endpoint whose TLS material failed: the request never left', async () => {
    const { kv, client, a, b } = cluster();
    a.send = async () => {
      throw new WeftError('WEFT_STORE_TLS', 'cannot read the etcd CA file /ca.pem (ENOENT)');
    };
    await client.put('/k', 'v');
    expect(b.requests.map((r) => r.path)).toEqual(['/v3/kv/put']);
    expect((await kv.get('/k'))?.value).toBe('v');
  });

  it('refuses every request once closed, and closes each transport', async () => {
    const { client, a, b, c } = cluster();
    client.close();
    expect([a.closed, b.closed, c.closed]).toEqual([true, true, true]);
    await expect(client.get('/k')).rejects.toMatchObject({ code: 'WEFT_STORE_UNAVAILABLE', message: 'the etcd client is closed' });
    expect(a.requests).toEqual([]);
  });
});
