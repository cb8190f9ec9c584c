/**
 * An in-memory SubnetStore with etcd's semantics where the keeper depends on them: compare-and-create (also
 * failing when any subnet key changed after the listing's revision), create revisions,
 * compare-and-swap on the modification revision, leases that expire on the injected clock (taking their keys
 * with them), keep-alive of a lease that is gone answering "no such lease", and a network config key whose
 * removal stops creations. Only an input to the keeper's unit tests (the real store is tested against etcd).
 */
import type { Clock } from '../clock.ts';
import type { RawKv } from '../lease.ts';
import type { CreateResult, FeedHandlers, Listing, SubnetStore } from '../store.ts';

export class FakeSubnetStore implements SubnetStore {
  readonly configKey = '/test/network/config';
  readonly subnetsPrefix = '/test/network/subnets';
  readonly #clock: Clock;
  readonly kvs = new Map<string, RawKv>();
  readonly leases = new Map<string, { expiresAt: number; ttl: number }>();
  config: string | undefined = '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}';
  #rev = 1;
  #leaseSeq = 100;
  /** Set to make every call fail (etcd unreachable). */
  down: string | undefined;
  /** Called on every create, before it happens: a test can make another host win a race here. */
  beforeCreate: ((key: string) => void) | undefined;
  readonly #watchers = new Set<FeedHandlers>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #check(): void {
    if (this.down) throw new Error(this.down);
    for (const [id, l] of this.leases) {
      if (l.expiresAt > this.#clock.now()) continue;
      this.leases.delete(id);
      for (const [k, kv] of this.kvs) if (kv.leaseId === id) this.remove(k);
    }
  }

  /** Puts a key as another writer would (leaseId "0": a reservation); watchers see it. */
  put(key: string, value: string, leaseId = '0'): RawKv {
    const rev = String(++this.#rev);
    const kv = { key, value, leaseId, modRevision: rev, createRevision: this.kvs.get(key)?.createRevision ?? rev };
    this.kvs.set(key, kv);
    for (const w of this.#watchers) w.changes([{ type: 'put', kv }]);
    return kv;
  }

  /** Deletes a key as another writer (or an expiring lease) would; watchers see it. */
  remove(key: string): void {
    if (!this.kvs.delete(key)) return;
    const modRevision = String(++this.#rev);
    for (const w of this.#watchers) w.changes([{ type: 'delete', key, modRevision }]);
  }

  async getConfig(): Promise<string | undefined> {
    this.#check();
    return this.config;
  }

  async listSubnets(): Promise<Listing> {
    this.#check();
    return { revision: String(this.#rev), kvs: [...this.kvs.values()].filter((kv) => kv.key.startsWith(`${this.subnetsPrefix}/`)) };
  }

  async getSubnet(key: string): Promise<RawKv | undefined> {
    this.#check();
    return this.kvs.get(key);
  }

  async createSubnet(key: string, value: string, ttl: number, asOf: string): Promise<CreateResult> {
    this.#check();
    this.beforeCreate?.(key);
    if (this.config === undefined) return { created: false, why: 'no-config' };
    const changed = [...this.kvs.values()].some(
      (kv) => kv.key.startsWith(`${this.subnetsPrefix}/`) && Number(kv.modRevision) > Number(asOf),
    );
    if (this.kvs.has(key) || changed) return { created: false, why: 'taken' };
    const leaseId = String(++this.#leaseSeq);
    this.leases.set(leaseId, { expiresAt: this.#clock.now() + ttl * 1000, ttl });
    const kv = this.put(key, value, leaseId);
    return { created: true, leaseId, ttl, revision: kv.modRevision };
  }

  async updateSubnet(key: string, value: string, leaseId: string, modRevision: string): Promise<boolean> {
    this.#check();
    if (this.kvs.get(key)?.modRevision !== modRevision) return false;
    this.put(key, value, leaseId);
    return true;
  }

  async deleteSubnet(key: string): Promise<void> {
    this.#check();
    this.remove(key);
  }

  async keepAlive(leaseId: string): Promise<number | undefined> {
    this.#check();
    const l = this.leases.get(leaseId);
    if (!l) return undefined;
    l.expiresAt = this.#clock.now() + l.ttl * 1000;
    return l.ttl;
  }

  async leaseTTL(leaseId: string): Promise<number> {
    this.#check();
    const l = this.leases.get(leaseId);
    return l ? Math.round((l.expiresAt - this.#clock.now()) / 1000) : -1;
  }

  async revoke(leaseId: string): Promise<void> {
    this.leases.delete(leaseId);
    for (const [k, kv] of this.kvs) if (kv.leaseId === leaseId) this.remove(k);
  }

  /** A snapshot, then every put and delete as it happens (etcd's list-then-watch, without its failures). */
  watchSubnets(h: FeedHandlers): { start(): Promise<void>; stop(): void } {
    return {
      start: async () => {
        const l = await this.listSubnets();
        h.snapshot(l.kvs, l.revision);
        this.#watchers.add(h);
      },
      stop: () => void this.#watchers.delete(h),
    };
  }
}
