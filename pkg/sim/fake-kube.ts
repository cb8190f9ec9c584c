/**
 * A stand-in for kube-apiserver (none can be installed here) that serves the few Node endpoints weft's
 * kube subnet manager uses, following the API conventions closely enough that @kubernetes/client-node runs
 * unmodified against it:
 *
 *   GET   /api/v1/nodes/{name}                      the Node, or a 404 Status
 *   GET   /api/v1/nodes                             a NodeList with metadata.resourceVersion
 *   GET   /api/v1/nodes?watch=true&resourceVersion=R  a stream of {"type","object"} lines for every change
 *                                                   after R; BOOKMARK events when allowWatchBookmarks=true;
 *                                                   an ERROR event with a 410 Status when R is too old
 *   PATCH /api/v1/nodes/{name}/status               strategic merge: annotations by key (null deletes),
 *                                                   status.conditions merged by type
 *
 * It listens inside a simulated host's namespace (the socket is made there, so daemons reach it over the
 * underlay) and the test changes nodes directly. Every request is recorded.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { withNetns, type Netns } from '../kernel/mod.ts';

export interface FakeNode {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string>; uid?: string };
  spec: { podCIDR?: string; podCIDRs?: string[] };
  status?: { conditions?: Array<Record<string, unknown>> };
}

interface Event {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly node: FakeNode;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export class FakeKube {
  readonly url: string;
  readonly requests: Array<{ method: string; url: string; contentType?: string; body?: unknown }> = [];
  readonly #nodes = new Map<string, FakeNode>();
  readonly #events: Event[] = [];
  readonly #watchers = new Set<{ res: ServerResponse; bookmarks: boolean }>();
  #rv = 100;
  /** Events at or below this revision are forgotten: a watch from before it gets 410 Gone. */
  #compacted = 0;
  readonly #server: Server;
  readonly #ticker: NodeJS.Timeout;

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
    this.#ticker = setInterval(() => this.#bookmarks(), 500);
  }

  /**
   * Starts listening on `port` inside `netns` (reached as http://ip:port). Without a host, listen() binds
   * synchronously, so the socket is made while this thread is in the namespace; with one it would resolve
   * the host first and bind later, back in the test's own namespace.
   */
  static start(netns: Netns, ip: string, port = 6443): FakeKube {
    let fake!: FakeKube;
    const server = createServer((req, res) => void fake.#handle(req, res));
    withNetns(netns, () => server.listen(port));
    fake = new FakeKube(server, `http://${ip}:${port}`);
    return fake;
  }

  /**
   * Writes a kubeconfig for this API server and flannel's net-conf.json (`network`) into `dir`; returns the
   * daemon flags that use them in Kubernetes mode.
   */
  daemonArgs(dir: string, network = '10.244.0.0/16', ipv6Network?: string): string[] {
    const v6 = ipv6Network && { EnableIPv6: true, IPv6Network: ipv6Network };
    writeFileSync(join(dir, 'net-conf.json'), JSON.stringify({ Network: network, ...v6, Backend: { Type: 'vxlan' } }));
    writeFileSync(
      join(dir, 'kubeconfig'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'fake',
        // Plain HTTP to the stand-in: the client allows it only with TLS verification off.
        clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'weft', user: { token: 'stand-in' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'weft' } }],
      }),
    );
    return ['--kube-subnet-mgr', `--kubeconfig-file=${join(dir, 'kubeconfig')}`, `--net-config-path=${join(dir, 'net-conf.json')}`];
  }

  close(): void {
    clearInterval(this.#ticker);
    for (const w of this.#watchers) w.res.destroy();
    this.#server.close();
    this.#server.closeAllConnections();
  }

  get revision(): number {
    return this.#rv;
  }

  node(name: string): FakeNode | undefined {
    const n = this.#nodes.get(name);
    return n && clone(n);
  }

  #emit(type: Event['type'], node: FakeNode): void {
    this.#rv++;
    node.metadata.resourceVersion = String(this.#rv);
    const ev = { rv: this.#rv, type, node: clone(node) };
    this.#events.push(ev);
    for (const w of this.#watchers) w.res.write(`${JSON.stringify({ type, object: this.#obj(ev.node) })}\n`);
  }

  #obj(n: FakeNode): object {
    return { kind: 'Node', apiVersion: 'v1', ...n };
  }

  /** Creates or replaces a node. */
  put(node: FakeNode): void {
    const existed = this.#nodes.has(node.metadata.name);
    const n = clone(node);
    n.metadata.uid ??= `uid-${n.metadata.name}`;
    this.#nodes.set(n.metadata.name, n);
    this.#emit(existed ? 'MODIFIED' : 'ADDED', n);
  }

  delete(name: string): void {
    const n = this.#nodes.get(name);
    if (!n) return;
    this.#nodes.delete(name);
    this.#emit('DELETED', n);
  }

  /** Forgets the history so far and ends every watch: clients must list again (410 on resume). */
  expireWatches(): void {
    this.#compacted = ++this.#rv;
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  #bookmarks(): void {
    for (const w of this.#watchers) {
      if (w.bookmarks) {
        const object = { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) } };
        w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
      }
    }
  }

  #status(res: ServerResponse, code: number, reason: string, message: string): void {
    res
      .writeHead(code, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    let text = '';
    for await (const c of req) text += String(c);
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers['content-type'] && { contentType: req.headers['content-type'] }),
      ...(body !== undefined && { body }),
    });
    const one = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    const status = /^\/api\/v1\/nodes\/([^/]+)\/status$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/api/v1/nodes') {
      if (url.searchParams.get('watch') === 'true') return this.#watch(url, res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'NodeList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.#rv) },
          items: [...this.#nodes.values()].map((n) => this.#obj(n)),
        }),
      );
      return;
    }
    if (req.method === 'GET' && one) {
      const n = this.#nodes.get(decodeURIComponent(one[1]!));
      if (!n) return this.#status(res, 404, 'NotFound', `nodes "${one[1]}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.#obj(n)));
      return;
    }
    if (req.method === 'PATCH' && status) {
      const n = this.#nodes.get(decodeURIComponent(status[1]!));
      if (!n) return this.#status(res, 404, 'NotFound', `nodes "${status[1]}" not found`);
      if (req.headers['content-type'] !== 'application/strategic-merge-patch+json')
        return this.#status(
          res,
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: ' +
            'application/json-patch+json, application/merge-patch+json, ' +
            'application/apply-patch+yaml, application/strategic-merge-patch+json',
        );
      const p = body as {
        metadata?: { annotations?: Record<string, string | null> };
        status?: { conditions?: Array<Record<string, unknown>> };
      };
      for (const [k, v] of Object.entries(p.metadata?.annotations ?? {})) {
        n.metadata.annotations ??= {};
        if (v === null) delete n.metadata.annotations[k];
        else n.metadata.annotations[k] = v;
      }
      for (const c of p.status?.conditions ?? []) {
        n.status ??= {};
        n.status.conditions ??= [];
        const list = n.status.conditions;
        const i = list.findIndex((x) => x.type === c.type);
        if (i >= 0) list[i] = { ...list[i], ...c };
        else list.push(c);
      }
      this.#emit('MODIFIED', n);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.#obj(n)));
      return;
    }
    this.#status(res, 404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
  }

  #watch(url: URL, res: ServerResponse): void {
    const from = Number(url.searchParams.get('resourceVersion') || this.#rv);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.#compacted) {
      const object = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.#compacted})`,
        reason: 'Expired',
        code: 410,
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object })}\n`);
      return;
    }
    for (const ev of this.#events.filter((e) => e.rv > from))
      res.write(`${JSON.stringify({ type: ev.type, object: this.#obj(ev.node) })}\n`);
    const w = { res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' };
    this.#watchers.add(w);
    res.on('close', () => this.#watchers.delete(w));
  }
}
