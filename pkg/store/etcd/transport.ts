/**
 * HTTP/1.1 to one etcd endpoint's JSON gateway, over TCP, TLS or a Unix socket, with pooled connections.
 *
 * TLS is Node's own: the server certificate is verified against the CA file (or the system's CAs) and against
 * the endpoint as written, an IP SAN for an address and a DNS SAN for a name, and the TLS server name (SNI)
 * is sent only for names, as RFC 6066 requires. The certificate files are read again when one changes, so a
 * rotated client certificate is used without a restart.
 *
 * Why not etcd3/gRPC: grpc-js sends the endpoint's host as the TLS server name, which Node 26 refuses for an
 * IP address (the reason TLS to etcd by IP never worked), its errors reach users as "14 UNAVAILABLE ...
 * circuit breaker is open", and loading it costs a process ~38 MiB of its ~80 (docs/adr/0005).
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import { readFileSync, statSync } from 'node:fs';
import { WeftError } from '../../errors/mod.ts';
import { LineSplitter } from './codec.ts';
import type { Endpoint } from './endpoint.ts';
import { DEADLINE } from './failure.ts';

export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

interface Material {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

const RECHECK_MS = 2000;

/** The CA, certificate and key, read on first use and again after any of the files changed. */
export class TlsMaterial {
  readonly files: TlsFiles;
  #stamp = '';
  #material: Material | undefined;
  #checked = 0;
  generation = 0;

  constructor(files: TlsFiles) {
    this.files = files;
  }

  get clientCert(): boolean {
    return this.files.certFile !== undefined;
  }

  #read(path: string, what: string): Buffer {
    try {
      return readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new WeftError(
        'WEFT_STORE_TLS',
        `cannot read the etcd ${what} ${path} (${code}); check the path and that it is readable by root`,
      );
    }
  }

  /** Throws WEFT_STORE_TLS when a file cannot be read (the caller retries: a Secret may be mounted late). */
  current(): Material {
    const now = Date.now();
    if (this.#material && now - this.#checked < RECHECK_MS) return this.#material;
    this.#checked = now;
    const f = this.files;
    const stamp = [f.caFile, f.certFile, f.keyFile]
      .map((p) => {
        if (!p) return '-';
        try {
          const s = statSync(p);
          return `${s.mtimeMs}:${s.size}:${s.ino}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
    if (this.#material && stamp === this.#stamp) return this.#material;
    const m: Material = {
      ...(f.caFile && { ca: this.#read(f.caFile, 'CA file') }),
      ...(f.certFile && { cert: this.#read(f.certFile, 'certificate file') }),
      ...(f.keyFile && { key: this.#read(f.keyFile, 'key file') }),
    };
    if (m.cert && m.key) {
      try {
        process.getBuiltinModule('node:tls').createSecureContext({ cert: m.cert, key: m.key });
      } catch (e) {
        throw new WeftError(
          'WEFT_STORE_TLS',
          `the etcd certificate ${f.certFile} and key ${f.keyFile} do not go together (${(e as Error).message})`,
        );
      }
    }
    this.#material = m;
    this.#stamp = stamp;
    this.generation++;
    return m;
  }
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

export interface SendOptions {
  readonly timeoutMs: number;
  readonly token?: string | undefined;
  /** A server stream: each JSON line as it arrives; `send` resolves when the stream ends. */
  readonly onLine?: (line: string) => void;
  readonly signal?: AbortSignal | undefined;
  /** Told once the response started (for streams: the deadline stops applying then). */
  readonly onResponse?: (status: number) => void;
}

/** A failed request with what the failure description needs: the cause, and whether we were connected. */
export class SendError extends Error {
  readonly connected: boolean;

  constructor(cause: unknown, connected: boolean) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.connected = connected;
  }
}

/**
 * What the client needs of one endpoint: a request and its reply, or a SendError saying whether the request
 * was connected when it failed (the failover rules in client.ts hang on that). HttpTransport is the real one;
 * the client's unit tests give their own, so each failure is produced on purpose rather than by a sick etcd.
 */
export interface EtcdTransport {
  readonly endpoint: Endpoint;
  /** POSTs `body` as JSON to `path`; rejects with a SendError for anything below HTTP (WEFT_STORE_TLS as is). */
  send(path: string, body: unknown, o: SendOptions): Promise<Reply>;
  close(): void;
}

/** Makes an endpoint's transport; `tls` is the client's certificate material (undefined without TLS flags). */
export type TransportFactory = (endpoint: Endpoint, tls: TlsMaterial | undefined) => EtcdTransport;

export class HttpTransport implements EtcdTransport {
  readonly endpoint: Endpoint;
  readonly #tls: TlsMaterial | undefined;
  #agent: http.Agent | undefined;
  #streamAgent: http.Agent | undefined;
  #generation = -1;

  constructor(endpoint: Endpoint, tls: TlsMaterial | undefined) {
    this.endpoint = endpoint;
    this.#tls = endpoint.kind === 'https' ? (tls ?? new TlsMaterial({})) : undefined;
  }

  #agents(): { unary: http.Agent; stream: http.Agent } {
    const material = this.#tls?.current();
    if (!this.#agent || (this.#tls && this.#tls.generation !== this.#generation)) {
      this.#agent?.destroy();
      this.#streamAgent?.destroy();
      if (this.#tls) {
        const https = process.getBuiltinModule('node:https');
        this.#agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...material });
        this.#streamAgent = new https.Agent({ keepAlive: false, ...material });
        this.#generation = this.#tls.generation;
      } else {
        this.#agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        this.#streamAgent = new http.Agent({ keepAlive: false });
      }
    }
    return { unary: this.#agent, stream: this.#streamAgent! };
  }

  send(path: string, body: unknown, o: SendOptions): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let agents: { unary: http.Agent; stream: http.Agent };
      try {
        agents = this.#agents();
      } catch (e) {
        reject(e);
        return;
      }
      const ep = this.endpoint;
      const target: http.RequestOptions = ep.kind === 'unix' ? { socketPath: ep.socketPath } : { host: ep.host, port: ep.port };
      const options: https.RequestOptions = {
        ...target,
        path,
        method: 'POST',
        agent: o.onLine ? agents.stream : agents.unary,
        headers: { 'content-type': 'application/json', ...(o.token && { authorization: o.token }) },
      };
      const mod = ep.kind === 'https' ? process.getBuiltinModule('node:https') : http;
      let connected = false;
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        reject(e instanceof SendError || (e as { code?: string }).code === 'WEFT_STORE_TLS' ? e : new SendError(e, connected));
      };
      const req = mod.request(options, (res) => {
        const status = res.statusCode ?? 0;
        o.onResponse?.(status);
        res.setEncoding('utf8');
        let text = '';
        if (o.onLine && status === 200) {
          clearTimeout(timer);
          const lines = new LineSplitter();
          res.on('data', (chunk: string) => {
            for (const l of lines.push(chunk)) o.onLine!(l);
          });
        } else {
          res.on('data', (chunk: string) => (text += chunk));
        }
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
          resolve({ status, body: text });
        });
        res.on('error', fail);
        res.on('aborted', () => fail(Object.assign(new Error('the connection was closed'), { code: 'ECONNRESET' })));
      });
      req.on('socket', (s) => {
        if (!s.connecting) connected = true;
        else s.once(ep.kind === 'https' ? 'secureConnect' : 'connect', () => (connected = true));
      });
      req.on('error', fail);
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('deadline'), { code: DEADLINE })), o.timeoutMs);
      const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(JSON.stringify(body));
    });
  }

  close(): void {
    this.#agent?.destroy();
    this.#streamAgent?.destroy();
  }
}
