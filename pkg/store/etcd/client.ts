/**
 * weft's etcd v3 client, over etcd's JSON gateway (docs/adr/0005). It speaks to one endpoint at a time and
 * moves to the next when that one fails:
 *
 *   reads      go to the next endpoint on any failure of the current one;
 *   writes     go to the next endpoint only when the request never reached etcd (refused, unresolvable, TLS
 *              handshake failed, "no leader"): a write that timed out may have been applied, and is reported
 *              to the caller, which owns the decision (a lease's compare-and-create, a network's generation);
 *   watches    live on the current endpoint and are ended when the client moves away from it, so their owner
 *              lists again wherever the client now is (see PrefixFeed).
 *
 * While a watch is open, the current endpoint is asked for its status every `healthCheckMs`: a member that
 * stopped answering, or lost its leader, is left even when no request of ours happened to notice (gRPC's
 * keepalive pings do this for gRPC clients; a long-poll over HTTP/1.1 has nothing of the kind).
 *
 * With `username`, each endpoint gets a token from /v3/auth/authenticate (etcd's simple tokens belong to the
 * member that issued them) and a new one when etcd says it expired.
 */
import { WeftError, isWeftError } from '../../errors/mod.ts';
import {
  b64,
  decodeEvent,
  decodeKv,
  encodeCompare,
  encodeOp,
  prefixEnd,
  type Compare,
  type KeyValue,
  type Op,
  type WatchEvent,
  type WireHeader,
  type WireKv,
} from './codec.ts';
import { parseEndpoints, type Endpoint } from './endpoint.ts';
import { answerFailure, socketFailure, type Failure, type FailureContext } from './failure.ts';
import {
  HttpTransport,
  SendError,
  TlsMaterial,
  type EtcdTransport,
  type Reply,
  type TlsFiles,
  type TransportFactory,
} from './transport.ts';

export interface EtcdOptions extends TlsFiles {
  readonly endpoints: readonly string[];
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Deadline of every unary request (default 5 s). */
  readonly callTimeoutMs?: number;
  /** How often the current endpoint is checked while a watch is open (default 10 s; 0: never). */
  readonly healthCheckMs?: number;
  /** A watch that heard nothing for this long is ended (etcd sends progress notices every 10 min; default 15 min). */
  readonly watchSilenceMs?: number;
  /** Told when the client moves to another endpoint, and why. */
  readonly onSwitch?: (to: string, why: string) => void;
  /** Told of every request's outcome (`op`: range, txn, lease_keepalive, ...; `error`: the WeftCode when it failed). */
  readonly onRequest?: (op: string, error: string | undefined) => void;
  /** Told when a watch ends and its owner has to list again. */
  readonly onWatchEnd?: (why: 'compacted' | 'ended') => void;
  /** Makes each endpoint's transport (default: HTTP over TCP, TLS or a Unix socket); unit tests give their own. */
  readonly transport?: TransportFactory;
}

export interface EndpointState {
  readonly endpoint: string;
  readonly current: boolean;
  readonly lastError: string | undefined;
  readonly lastErrorAt: string | undefined;
  readonly lastOkAt: string | undefined;
  readonly latencyMs: number | undefined;
}

export interface Range {
  readonly revision: string;
  readonly kvs: KeyValue[];
}

export type WatchEnd =
  | { readonly kind: 'compacted'; readonly compactRevision: string }
  | { readonly kind: 'ended'; readonly reason: string };

export interface WatchHandlers {
  events(events: readonly WatchEvent[], revision: string): void;
  /** Called once when the watch ends for any reason but cancel(). */
  end(why: WatchEnd): void;
}

export interface Watch {
  cancel(): void;
}

interface Slot {
  readonly transport: EtcdTransport;
  token: string | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  lastOkAt: number | undefined;
  latencyMs: number | undefined;
}

interface OpenWatch {
  readonly slot: number;
  readonly abort: AbortController;
  lastHeard: number;
  end(reason: string): void;
}

interface Gateway {
  header?: WireHeader;
  kvs?: WireKv[];
  count?: string;
  deleted?: string;
  succeeded?: boolean;
  ID?: string;
  TTL?: string;
  token?: string;
  leader?: string;
}

/**
 * The part of etcd the stores use: keys, transactions, leases and watches. EtcdClient is the real one;
 * testing/memory-kv.ts models its semantics in memory for property tests of the stores over interleavings.
 */
export type KvClient = Pick<
  EtcdClient,
  | 'get'
  | 'getPrefix'
  | 'put'
  | 'delete'
  | 'deletePrefix'
  | 'txn'
  | 'leaseGrant'
  | 'leaseKeepAlive'
  | 'leaseTimeToLive'
  | 'leaseRevoke'
  | 'watchPrefix'
>;

export class EtcdClient {
  readonly #slots: Slot[];
  readonly #o: EtcdOptions;
  readonly #timeoutMs: number;
  readonly #tls: TlsMaterial | undefined;
  readonly #watches = new Set<OpenWatch>();
  #current = 0;
  #health: NodeJS.Timeout | undefined;
  #closed = false;

  /** Throws WEFT_INVALID_CONFIG for an endpoint it cannot use; nothing is contacted yet. */
  constructor(o: EtcdOptions) {
    if ((o.certFile === undefined) !== (o.keyFile === undefined)) {
      throw new WeftError('WEFT_INVALID_CONFIG', 'a client certificate needs both --etcd-certfile and --etcd-keyfile');
    }
    this.#o = o;
    this.#timeoutMs = o.callTimeoutMs ?? 5000;
    const endpoints = parseEndpoints(o.endpoints);
    const tlsWanted = o.caFile !== undefined || o.certFile !== undefined;
    this.#tls = tlsWanted ? new TlsMaterial({ caFile: o.caFile, certFile: o.certFile, keyFile: o.keyFile }) : undefined;
    const transport = o.transport ?? ((e: Endpoint, tls: TlsMaterial | undefined) => new HttpTransport(e, tls));
    this.#slots = endpoints.map((e) => ({
      transport: transport(e, this.#tls),
      token: undefined,
      lastError: undefined,
      lastErrorAt: undefined,
      lastOkAt: undefined,
      latencyMs: undefined,
    }));
  }

  get endpoints(): string[] {
    return this.#slots.map((s) => s.transport.endpoint.url);
  }

  /** Each endpoint's recent history, for status pages. */
  state(): EndpointState[] {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return this.#slots.map((s, i) => ({
      endpoint: s.transport.endpoint.url,
      current: i === this.#current,
      lastError: s.lastError,
      lastErrorAt: iso(s.lastErrorAt),
      lastOkAt: iso(s.lastOkAt),
      latencyMs: s.latencyMs,
    }));
  }

  // ---- keys

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.#call<Gateway>('/v3/kv/range', { key: b64(key) }, false);
    return r.kvs?.[0] ? decodeKv(r.kvs[0]) : undefined;
  }

  async getPrefix(prefix: string): Promise<Range> {
    const r = await this.#call<Gateway>('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) }, false);
    return { revision: r.header?.revision ?? '0', kvs: (r.kvs ?? []).map(decodeKv) };
  }

  async put(key: string, value: string, o: { lease?: string } = {}): Promise<void> {
    await this.#call('/v3/kv/put', encodeOp({ put: key, value, ...(o.lease && { lease: o.lease }) }).request_put, true);
  }

  /** Deletes one key; how many were deleted (0 or 1). */
  async delete(key: string): Promise<number> {
    return Number((await this.#call<Gateway>('/v3/kv/deleterange', { key: b64(key) }, true)).deleted ?? 0);
  }

  async deletePrefix(prefix: string): Promise<number> {
    return Number((await this.#call<Gateway>('/v3/kv/deleterange', { key: b64(prefix), range_end: prefixEnd(prefix) }, true)).deleted ?? 0);
  }

  /** If every comparison holds, applies `success`, else `failure`; whether the comparisons held. */
  async txn(compare: readonly Compare[], success: readonly Op[], failure: readonly Op[] = []): Promise<boolean> {
    const r = await this.#call<Gateway>(
      '/v3/kv/txn',
      { compare: compare.map(encodeCompare), success: success.map(encodeOp), failure: failure.map(encodeOp) },
      true,
    );
    return r.succeeded === true;
  }

  /** The current endpoint's member: its ID, its leader's ID ("0": none), and etcd's version. */
  async status(): Promise<{ endpoint: string; memberId: string; leader: string; version: string }> {
    const r = await this.#call<Gateway & { header?: { member_id?: string }; version?: string }>('/v3/maintenance/status', {}, false);
    return {
      endpoint: this.#slots[this.#current]!.transport.endpoint.url,
      memberId: r.header?.member_id ?? '0',
      leader: r.leader ?? '0',
      version: r.version ?? '',
    };
  }

  async compact(revision: string): Promise<void> {
    await this.#call('/v3/kv/compaction', { revision, physical: true }, true);
  }

  // ---- leases

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const r = await this.#call<Gateway>('/v3/lease/grant', { TTL: String(ttlSeconds) }, true);
    return { id: r.ID ?? '0', ttl: Number(r.TTL ?? ttlSeconds) };
  }

  /** Refreshes a lease once; its new TTL in seconds, or undefined when etcd no longer has it. */
  async leaseKeepAlive(id: string): Promise<number | undefined> {
    const r = await this.#call<{ result?: Gateway }>('/v3/lease/keepalive', { ID: id }, false, { firstLine: true });
    const ttl = Number(r.result?.TTL ?? 0);
    return ttl > 0 ? ttl : undefined;
  }

  /** Seconds left on a lease; -1 when it does not exist. */
  async leaseTimeToLive(id: string): Promise<number> {
    if (id === '0') return -1;
    return Number((await this.#call<Gateway>('/v3/lease/timetolive', { ID: id }, false)).TTL ?? -1);
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.#call('/v3/lease/revoke', { ID: id }, true);
  }

  // ---- watches

  /**
   * Watches every key under `prefix` from `startRevision`; resolves once etcd confirmed the watch. The
   * handlers see events in order, and `end` once, whatever ends the watch (compaction, etcd going away, the
   * client leaving the endpoint); they list again and watch anew.
   */
  async watchPrefix(prefix: string, startRevision: string, h: WatchHandlers): Promise<Watch> {
    const body = {
      create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: startRevision, progress_notify: true },
    };
    let lastError: WeftError | undefined;
    for (const i of this.#order()) {
      try {
        return await this.#openWatch(i, body, h);
      } catch (e) {
        const f = this.#failure(i, e, false);
        lastError = f.error;
        if (f.retry === 'final') throw f.error;
      }
    }
    throw lastError!;
  }

  #openWatch(slotIndex: number, body: object, h: WatchHandlers): Promise<Watch> {
    const slot = this.#slots[slotIndex]!;
    return new Promise((resolve, reject) => {
      let created = false;
      let ended = false;
      const abort = new AbortController();
      const w: OpenWatch = {
        slot: slotIndex,
        abort,
        lastHeard: Date.now(),
        end: (reason) => {
          if (ended) return;
          ended = true;
          this.#watches.delete(w);
          abort.abort();
          if (!created) return;
          this.#o.onWatchEnd?.('ended');
          h.end({ kind: 'ended', reason });
        },
      };
      const onLine = (line: string) => {
        w.lastHeard = Date.now();
        let msg: {
          result?: {
            created?: boolean;
            canceled?: boolean;
            compact_revision?: string;
            cancel_reason?: string;
            header?: WireHeader;
            events?: Array<{ type?: string; kv?: WireKv }>;
          };
          error?: { message?: string };
        };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          w.end(`etcd sent a line that is not JSON: ${line.slice(0, 80)}`);
          return;
        }
        const r = msg.result;
        if (msg.error || !r) {
          w.end(`etcd ended the watch: ${msg.error?.message ?? 'no result'}`);
          return;
        }
        if (r.canceled) {
          if (r.compact_revision && r.compact_revision !== '0') {
            ended = true;
            this.#watches.delete(w);
            abort.abort();
            if (created) {
              this.#o.onWatchEnd?.('compacted');
              h.end({ kind: 'compacted', compactRevision: r.compact_revision });
            } else reject(new WeftError('WEFT_STORE', `etcd has compacted revision ${r.compact_revision}`));
            return;
          }
          w.end(`etcd cancelled the watch${r.cancel_reason ? `: ${r.cancel_reason}` : ''}`);
          return;
        }
        if (r.created && !created) {
          created = true;
          this.#watches.add(w);
          this.#ensureHealthCheck();
          resolve({
            cancel: () => {
              ended = true;
              this.#watches.delete(w);
              abort.abort();
            },
          });
        }
        if (r.events && r.events.length > 0) h.events(r.events.map(decodeEvent), r.header?.revision ?? '0');
      };
      slot.transport.send('/v3/watch', body, { timeoutMs: this.#timeoutMs, token: slot.token, onLine, signal: abort.signal }).then(
        (reply) => {
          if (!created)
            reject(
              reply.status === 200
                ? new WeftError('WEFT_STORE_UNAVAILABLE', `etcd at ${slot.transport.endpoint.url} closed the watch before confirming it`)
                : new ReplyError(reply),
            );
          else w.end(`etcd at ${slot.transport.endpoint.url} closed the watch`);
        },
        (e: unknown) => {
          if (!created) reject(e);
          else w.end(this.#failure(slotIndex, e, false).error.message);
        },
      );
    });
  }

  // ---- endpoints

  /** Endpoint indices, the current one first. */
  #order(): number[] {
    return this.#slots.map((_, k) => (this.#current + k) % this.#slots.length);
  }

  #switchTo(i: number, why: string): void {
    if (i === this.#current) return;
    this.#current = i;
    this.#o.onSwitch?.(this.#slots[i]!.transport.endpoint.url, why);
    for (const w of this.#watches) if (w.slot !== i) w.end(`the client moved to ${this.#slots[i]!.transport.endpoint.url} (${why})`);
  }

  #ctx(i: number, connected: boolean): FailureContext {
    return {
      endpoint: this.#slots[i]!.transport.endpoint.url,
      timeoutMs: this.#timeoutMs,
      clientCert: this.#tls?.clientCert ?? false,
      username: this.#o.username,
      connected,
    };
  }

  /** Describes a failure on endpoint i and records it. */
  #failure(i: number, e: unknown, connectedHint: boolean): Failure {
    let f: Failure;
    if (e instanceof ReplyError) f = answerFailure(this.#ctx(i, true), e.reply.status, e.reply.body);
    else if (isWeftError(e)) f = { error: e, retry: e.code === 'WEFT_STORE_TLS' ? 'unsent' : 'final' };
    else if (e instanceof SendError) f = socketFailure(this.#ctx(i, e.connected || connectedHint), e.cause);
    else f = socketFailure(this.#ctx(i, connectedHint), e);
    const s = this.#slots[i]!;
    s.lastError = f.error.message;
    s.lastErrorAt = Date.now();
    return f;
  }

  async #token(i: number): Promise<string | undefined> {
    const slot = this.#slots[i]!;
    if (this.#o.username === undefined || slot.token !== undefined) return slot.token;
    const reply = await slot.transport.send(
      '/v3/auth/authenticate',
      { name: this.#o.username, password: this.#o.password ?? '' },
      { timeoutMs: this.#timeoutMs },
    );
    if (reply.status === 200) {
      slot.token = (JSON.parse(reply.body) as Gateway).token ?? '';
      return slot.token;
    }
    if (/authentication is not enabled/.test(reply.body)) {
      slot.token = '';
      return slot.token;
    }
    throw new ReplyError(reply);
  }

  async #call<T>(path: string, body: unknown, write: boolean, o: { firstLine?: boolean } = {}): Promise<T> {
    const op = path.replace(/^\/v3\//, '').replace(/\//g, '_');
    try {
      const r = await this.#callOnce<T>(path, body, write, o);
      this.#o.onRequest?.(op, undefined);
      return r;
    } catch (e) {
      this.#o.onRequest?.(op, isWeftError(e) ? e.code : 'WEFT_INTERNAL');
      throw e;
    }
  }

  async #callOnce<T>(path: string, body: unknown, write: boolean, o: { firstLine?: boolean }): Promise<T> {
    if (this.#closed) throw new WeftError('WEFT_STORE_UNAVAILABLE', 'the etcd client is closed');
    const failures: Failure[] = [];
    for (const i of this.#order()) {
      const slot = this.#slots[i]!;
      try {
        const t0 = performance.now();
        let reply = await this.#send(i, path, body, o.firstLine ?? false);
        if (reply.status !== 200 && /invalid auth token/.test(reply.body) && this.#o.username !== undefined) {
          slot.token = undefined; // expired: authenticate again, once
          reply = await this.#send(i, path, body, o.firstLine ?? false);
        }
        if (reply.status !== 200) throw new ReplyError(reply);
        slot.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
        slot.lastOkAt = Date.now();
        this.#switchTo(i, failures.map((f) => f.error.message).join('; ') || 'it answered');
        return JSON.parse(reply.body) as T;
      } catch (e) {
        const f = this.#failure(i, e, false);
        failures.push(f);
        if (f.retry === 'final' || (f.retry === 'unhealthy' && write)) throw f.error;
      }
    }
    throw combine(failures);
  }

  async #send(i: number, path: string, body: unknown, firstLine: boolean): Promise<Reply> {
    const slot = this.#slots[i]!;
    const token = await this.#token(i);
    if (!firstLine) return slot.transport.send(path, body, { timeoutMs: this.#timeoutMs, token });
    // A server stream of which only the first message matters (a keep-alive's answer).
    const abort = new AbortController();
    let first: string | undefined;
    let reply: Reply | undefined;
    try {
      reply = await slot.transport.send(path, body, {
        timeoutMs: this.#timeoutMs,
        token,
        signal: abort.signal,
        onLine: (l) => {
          first ??= l;
          abort.abort();
        },
      });
    } catch (e) {
      if (first === undefined) throw e;
    }
    return first !== undefined ? { status: 200, body: first } : reply!;
  }

  #ensureHealthCheck(): void {
    const every = this.#o.healthCheckMs ?? 10_000;
    if (this.#health || every <= 0) return;
    this.#health = setInterval(() => void this.#checkHealth(), every);
    this.#health.unref();
  }

  async #checkHealth(): Promise<void> {
    if (this.#watches.size === 0) {
      clearInterval(this.#health);
      this.#health = undefined;
      return;
    }
    const silence = this.#o.watchSilenceMs ?? 15 * 60_000;
    for (const w of this.#watches) if (Date.now() - w.lastHeard > silence) w.end(`nothing heard for ${Math.round(silence / 1000)} s`);
    const i = this.#current;
    const slot = this.#slots[i]!;
    let problem: string | undefined;
    try {
      const t0 = performance.now();
      const reply = await this.#send(i, '/v3/maintenance/status', {}, false);
      if (reply.status !== 200) throw new ReplyError(reply);
      slot.latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      slot.lastOkAt = Date.now();
      if (((JSON.parse(reply.body) as Gateway).leader ?? '0') === '0') problem = `etcd at ${slot.transport.endpoint.url} has no leader`;
    } catch (e) {
      problem = this.#failure(i, e, false).error.message;
    }
    if (problem === undefined) return;
    slot.lastError = problem;
    slot.lastErrorAt = Date.now();
    if (this.#slots.length > 1) this.#switchTo((i + 1) % this.#slots.length, problem);
    else for (const w of this.#watches) w.end(problem);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#health);
    for (const w of [...this.#watches]) w.abort.abort();
    this.#watches.clear();
    for (const s of this.#slots) s.transport.close();
  }
}

/** etcd answered, but not with 200. */
class ReplyError extends Error {
  readonly reply: Reply;

  constructor(reply: Reply) {
    super(`HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
    this.reply = reply;
  }
}

/** One error for every endpoint's failure: the first's code, every endpoint's message. */
function combine(failures: readonly Failure[]): WeftError {
  if (failures.length === 1) return failures[0]!.error;
  const codes = new Set(failures.map((f) => f.error.code));
  const code = codes.size === 1 ? failures[0]!.error.code : 'WEFT_STORE_UNAVAILABLE';
  return new WeftError(code, `no etcd endpoint answered: ${failures.map((f) => f.error.message).join('; ')}`);
}
