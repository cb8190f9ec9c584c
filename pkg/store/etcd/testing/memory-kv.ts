/**
 * etcd's key-value semantics in memory, for property tests of the stores (pkg/store) and the lease keeper
 * over interleavings: one revision counter that every write transaction bumps once, each key's create and mod
 * revision and version, transactions whose comparisons and operations apply as one step, range compares over
 * a prefix (over no key they compare a key that does not exist, as etcd's applyCompare does), leases that own
 * keys and take them along when revoked or expired, and a history that watches replay from a revision.
 *
 * Every call takes effect when it runs, all at once; a test that wants interleavings wraps the calls (see
 * `scheduled`), so the effect happens at the moment a scheduler releases it. What it leaves out: auth,
 * compaction, and failures (the client's failover is unit-tested over scripted transports in failover.test.ts,
 * and against a real etcd in test/chaos).
 */
import type { KeyValue, Compare, Op, WatchEvent } from '../codec.ts';
import type { KvClient, Range, Watch, WatchHandlers } from '../client.ts';

interface Stored {
  value: string;
  lease: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

interface Lease {
  readonly ttl: number;
  expiresAt: number;
}

const ABSENT: Stored = { value: '', lease: '0', createRevision: 0, modRevision: 0, version: 0 };

export class MemoryKv implements KvClient {
  readonly #kvs = new Map<string, Stored>();
  readonly #leases = new Map<string, Lease>();
  readonly #history: Array<{ readonly revision: number; readonly event: WatchEvent }> = [];
  readonly #watchers = new Set<{ readonly prefix: string; readonly h: WatchHandlers }>();
  readonly #now: () => number;
  #revision = 1;
  #leaseSeq = 7000;

  /** `now` drives lease expiry (a test's fake clock); leases never expire with the default. */
  constructor(now: () => number = () => 0) {
    this.#now = now;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Every live key under `prefix`, as etcd would list it. */
  dump(prefix = ''): KeyValue[] {
    this.#expire();
    return [...this.#kvs.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((k) => this.#kv(k, this.#kvs.get(k)!));
  }

  #kv(key: string, s: Stored): KeyValue {
    return {
      key,
      value: s.value,
      lease: s.lease,
      modRevision: String(s.modRevision),
      createRevision: String(s.createRevision),
      version: String(s.version),
    };
  }

  #expire(): void {
    const now = this.#now();
    const gone = [...this.#leases].filter(([, l]) => l.expiresAt <= now).map(([id]) => id);
    if (gone.length > 0)
      this.#write(() => {
        for (const id of gone) this.#dropLease(id);
      });
  }

  #dropLease(id: string): void {
    this.#leases.delete(id);
    for (const [k, s] of [...this.#kvs]) if (s.lease === id) this.#del(k);
  }

  /** Runs the writes of one transaction at the next revision; the revision moves only if something changed. */
  #write(f: () => void): void {
    const before = this.#history.length;
    this.#revision++;
    f();
    if (this.#history.length === before) {
      this.#revision--;
      return;
    }
    const events = this.#history.slice(before);
    for (const w of this.#watchers) {
      const mine = events.filter((e) => (e.event.type === 'put' ? e.event.kv.key : e.event.key).startsWith(w.prefix)).map((e) => e.event);
      if (mine.length > 0) queueMicrotask(() => w.h.events(mine, String(this.#revision)));
    }
  }

  #put(key: string, value: string, lease = '0'): void {
    const cur = this.#kvs.get(key);
    const s: Stored = {
      value,
      lease,
      createRevision: cur?.createRevision ?? this.#revision,
      modRevision: this.#revision,
      version: (cur?.version ?? 0) + 1,
    };
    this.#kvs.set(key, s);
    this.#history.push({ revision: this.#revision, event: { type: 'put', kv: this.#kv(key, s) } });
  }

  #del(key: string): void {
    if (!this.#kvs.delete(key)) return;
    this.#history.push({ revision: this.#revision, event: { type: 'delete', key, modRevision: String(this.#revision) } });
  }

  #keysOf(key: string, prefix: boolean): string[] {
    return prefix ? [...this.#kvs.keys()].filter((k) => k.startsWith(key)) : this.#kvs.has(key) ? [key] : [];
  }

  #holds(c: Compare): boolean {
    const keys = this.#keysOf(c.key, c.prefix === true);
    if (keys.length === 0 && c.target === 'value') return false;
    const stored = keys.length === 0 ? [ABSENT] : keys.map((k) => this.#kvs.get(k)!);
    return stored.every((s) => {
      const have =
        c.target === 'value' ? s.value : BigInt(c.target === 'version' ? s.version : c.target === 'mod' ? s.modRevision : s.createRevision);
      const want = c.target === 'value' ? String(c.value) : BigInt(c.value);
      const cmp = have < want ? -1 : have > want ? 1 : 0;
      return c.op === '==' ? cmp === 0 : c.op === '!=' ? cmp !== 0 : c.op === '<' ? cmp < 0 : cmp > 0;
    });
  }

  #apply(o: Op): void {
    if ('put' in o) this.#put(o.put, o.value, o.lease);
    else if ('delete' in o) this.#del(o.delete);
    else for (const k of this.#keysOf(o.deletePrefix, true)) this.#del(k);
  }

  // ---- KvClient

  async get(key: string): Promise<KeyValue | undefined> {
    this.#expire();
    const s = this.#kvs.get(key);
    return s ? this.#kv(key, s) : undefined;
  }

  async getPrefix(prefix: string): Promise<Range> {
    return { kvs: this.dump(prefix), revision: String(this.#revision) };
  }

  async put(key: string, value: string, o: { lease?: string } = {}): Promise<void> {
    this.#expire();
    if (o.lease && o.lease !== '0' && !this.#leases.has(o.lease)) throw new Error('etcdserver: requested lease not found');
    this.#write(() => this.#put(key, value, o.lease));
  }

  async delete(key: string): Promise<number> {
    this.#expire();
    const had = this.#kvs.has(key);
    this.#write(() => this.#del(key));
    return had ? 1 : 0;
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.#expire();
    const n = this.#keysOf(prefix, true).length;
    this.#write(() => this.#apply({ deletePrefix: prefix }));
    return n;
  }

  async txn(compare: readonly Compare[], success: readonly Op[], failure: readonly Op[] = []): Promise<boolean> {
    this.#expire();
    const ok = compare.every((c) => this.#holds(c));
    const ops = ok ? success : failure;
    for (const o of ops)
      if ('put' in o && o.lease && o.lease !== '0' && !this.#leases.has(o.lease)) throw new Error('etcdserver: requested lease not found');
    this.#write(() => {
      for (const o of ops) this.#apply(o);
    });
    return ok;
  }

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const id = String(++this.#leaseSeq);
    this.#leases.set(id, { ttl: ttlSeconds, expiresAt: this.#now() + ttlSeconds * 1000 });
    return { id, ttl: ttlSeconds };
  }

  async leaseKeepAlive(id: string): Promise<number | undefined> {
    this.#expire();
    const l = this.#leases.get(id);
    if (!l) return undefined;
    l.expiresAt = this.#now() + l.ttl * 1000;
    return l.ttl;
  }

  async leaseTimeToLive(id: string): Promise<number> {
    this.#expire();
    const l = this.#leases.get(id);
    return l ? Math.round((l.expiresAt - this.#now()) / 1000) : -1;
  }

  async leaseRevoke(id: string): Promise<void> {
    if (!this.#leases.has(id)) throw new Error('etcdserver: requested lease not found');
    this.#write(() => this.#dropLease(id));
  }

  async watchPrefix(prefix: string, startRevision: string, h: WatchHandlers): Promise<Watch> {
    const from = Number(startRevision);
    const past = this.#history.filter((e) => e.revision >= from).map((e) => e.event);
    const matching = past.filter((e) => (e.type === 'put' ? e.kv.key : e.key).startsWith(prefix));
    const w = { prefix, h };
    this.#watchers.add(w);
    if (matching.length > 0) queueMicrotask(() => h.events(matching, String(this.#revision)));
    return { cancel: () => void this.#watchers.delete(w) };
  }
}

/** A method of a client wrapped so that a scheduler decides when each call takes effect and when it returns. */
export type Gate = (label: string) => Promise<void>;

/**
 * The client with every call gated twice: before it takes effect (a request on its way to etcd) and before
 * its answer is seen (a reply on its way back). fast-check's scheduler as `gate` explores their orders.
 */
export function scheduled(kv: KvClient, gate: Gate, who: string): KvClient {
  const wrap =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      await gate(`${who} ${name} ->`);
      const r = await f(...a);
      await gate(`${who} ${name} <-`);
      return r;
    };
  return {
    get: wrap('get', (k) => kv.get(k)),
    getPrefix: wrap('getPrefix', (p) => kv.getPrefix(p)),
    put: wrap('put', (k, v, o) => kv.put(k, v, o)),
    delete: wrap('delete', (k) => kv.delete(k)),
    deletePrefix: wrap('deletePrefix', (p) => kv.deletePrefix(p)),
    txn: wrap('txn', (c, s, f) => kv.txn(c, s, f)),
    leaseGrant: wrap('leaseGrant', (t) => kv.leaseGrant(t)),
    leaseKeepAlive: wrap('leaseKeepAlive', (id) => kv.leaseKeepAlive(id)),
    leaseTimeToLive: wrap('leaseTimeToLive', (id) => kv.leaseTimeToLive(id)),
    leaseRevoke: wrap('leaseRevoke', (id) => kv.leaseRevoke(id)),
    watchPrefix: (p, r, h) => kv.watchPrefix(p, r, h),
  };
}

/** The client with some calls replaced (a test's fault or race), every other call passed through as is. */
export function overriding(kv: KvClient, over: Partial<KvClient>): KvClient {
  return {
    get: (k) => kv.get(k),
    getPrefix: (p) => kv.getPrefix(p),
    put: (k, v, o) => kv.put(k, v, o),
    delete: (k) => kv.delete(k),
    deletePrefix: (p) => kv.deletePrefix(p),
    txn: (c, s, f) => kv.txn(c, s, f),
    leaseGrant: (t) => kv.leaseGrant(t),
    leaseKeepAlive: (id) => kv.leaseKeepAlive(id),
    leaseTimeToLive: (id) => kv.leaseTimeToLive(id),
    leaseRevoke: (id) => kv.leaseRevoke(id),
    watchPrefix: (p, r, h) => kv.watchPrefix(p, r, h),
    ...over,
  };
}
