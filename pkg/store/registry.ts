/**
 * One network's subtree in etcd, in flannel's schema: `<prefix>/config` and `<prefix>/subnets/<key>`. Only
 * etcd calls live here; what to write and when is decided by the lease keeper and the agent.
 *
 * Writes that must not clobber someone else's are transactions: a new lease is `Version(key) == 0 -> Put`
 * (compare-and-create), an update of this host's lease is `ModRevision(key) == seen -> Put`.
 */
import { WeftError, isWeftError } from '../errors/mod.ts';
import type { RawKv } from '../lease/lease.ts';
import type { CreateResult, FeedHandlers, Listing, SubnetStore } from '../lease/store.ts';
import type { KvClient } from './etcd/mod.ts';
import { PrefixFeed, toRaw } from './prefix-feed.ts';

export type { Listing };

/** Says what was being done when etcd failed; the client's message (endpoint, cause) follows. Others pass. */
export function storeError(what: string, e: unknown): WeftError {
  if (isWeftError(e)) return e.code.startsWith('WEFT_STORE') ? new WeftError(e.code, `${what}: ${e.message}`, { cause: e }) : e;
  return new WeftError('WEFT_STORE', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export class SubnetRegistry implements SubnetStore {
  readonly client: KvClient;
  readonly prefix: string;
  readonly configKey: string;
  readonly subnetsPrefix: string;

  constructor(client: KvClient, prefix: string) {
    this.client = client;
    this.prefix = prefix.replace(/\/+$/, '');
    this.configKey = `${this.prefix}/config`;
    this.subnetsPrefix = `${this.prefix}/subnets`;
  }

  async getConfig(): Promise<string | undefined> {
    try {
      return (await this.client.get(this.configKey))?.value;
    } catch (e) {
      throw storeError(`reading ${this.configKey}`, e);
    }
  }

  async listSubnets(): Promise<Listing> {
    try {
      const r = await this.client.getPrefix(`${this.subnetsPrefix}/`);
      return { revision: r.revision, kvs: r.kvs.map(toRaw) };
    } catch (e) {
      throw storeError(`listing ${this.subnetsPrefix}`, e);
    }
  }

  async getSubnet(key: string): Promise<RawKv | undefined> {
    try {
      const kv = await this.client.get(key);
      return kv ? toRaw(kv) : undefined;
    } catch (e) {
      throw storeError(`reading ${key}`, e);
    }
  }

  /**
   * Creates `key` with a fresh etcd lease of `ttl` seconds in one transaction that holds only while (1) the key
   * does not exist, (2) the network's config exists (a host must never create a lease under a network that was
   * just removed: its key would outlive the network on a 24 h lease), and (3) no key under the subnets prefix
   * has a mod revision after `asOf`, the listing's revision the subnet was chosen from (a range compare: every
   * key created or rewritten since then fails it; keys that expired or were deleted free space and do not).
   * Two hosts that chose from overlapping views therefore cannot both succeed, whichever halves of a
   * dual-stack key they share; the loser lists again. When it fails, says whether the config is gone; the
   * unused lease is revoked.
   */
  async createSubnet(key: string, value: string, ttl: number, asOf: string): Promise<CreateResult> {
    let lease: { id: string; ttl: number };
    try {
      lease = await this.client.leaseGrant(ttl);
    } catch (e) {
      throw storeError('granting a lease', e);
    }
    try {
      const compare = [
        { key, target: 'version', op: '==', value: 0 },
        { key: this.configKey, target: 'version', op: '>', value: 0 },
        { key: `${this.subnetsPrefix}/`, prefix: true, target: 'mod', op: '<', value: String(BigInt(asOf) + 1n) },
      ] as const;
      if (await this.client.txn(compare, [{ put: key, value, lease: lease.id }])) {
        const created = await this.client.get(key);
        return { created: true, leaseId: lease.id, ttl: lease.ttl, revision: created?.createRevision ?? '0' };
      }
      await this.revoke(lease.id);
      return { created: false, why: (await this.client.get(this.configKey)) ? 'taken' : 'no-config' };
    } catch (e) {
      await this.revoke(lease.id);
      throw storeError(`creating ${key}`, e);
    }
  }

  /** Puts `value` under `key` only if nobody changed it since `modRevision`; keeps it on `leaseId` ("0": none). */
  async updateSubnet(key: string, value: string, leaseId: string, modRevision: string): Promise<boolean> {
    try {
      return await this.client.txn([{ key, target: 'mod', op: '==', value: modRevision }], [{ put: key, value, lease: leaseId }]);
    } catch (e) {
      throw storeError(`updating ${key}`, e);
    }
  }

  async deleteSubnet(key: string): Promise<void> {
    try {
      await this.client.delete(key);
    } catch (e) {
      throw storeError(`deleting ${key}`, e);
    }
  }

  /** Refreshes an etcd lease once; its new TTL in seconds, or undefined when etcd no longer knows it. */
  async keepAlive(leaseId: string): Promise<number | undefined> {
    try {
      return await this.client.leaseKeepAlive(leaseId);
    } catch (e) {
      throw storeError(`renewing lease ${leaseId}`, e);
    }
  }

  /** Seconds left on an etcd lease; -1 when it does not exist (or is "0", no lease). */
  async leaseTTL(leaseId: string): Promise<number> {
    try {
      return await this.client.leaseTimeToLive(leaseId);
    } catch (e) {
      throw storeError(`reading lease ${leaseId}`, e);
    }
  }

  async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseRevoke(leaseId);
    } catch {
      // Unused leases expire on their own; failing to revoke one early is harmless.
    }
  }

  watchSubnets(h: FeedHandlers): PrefixFeed {
    return new PrefixFeed(this.client, `${this.subnetsPrefix}/`, h);
  }
}
