/**
 * One network's subtree in etcd, in flannel's schema: `<prefix>/config` and `<prefix>/subnets/<key>`. Only
 * etcd calls live here; what to write and when is decided by the lease keeper and the agent.
 *
 * Writes that must not clobber someone else's are transactions: a new lease is `Version(key) == 0 -> Put`
 * (compare-and-create), an update of this host's lease is `ModRevision(key) == seen -> Put`.
 */
import type { Etcd3 } from 'etcd3';
import { WeftError, messageOf } from '../errors/mod.ts';
import type { RawKv } from '../lease/lease.ts';
import { toRaw } from './prefix-feed.ts';

export interface Listing {
  readonly revision: string;
  readonly kvs: readonly RawKv[];
}


function storeError(what: string, e: unknown): WeftError {
  return new WeftError('WEFT_STORE', `etcd: ${what}: ${messageOf(e)}`, { cause: e });
}

export class SubnetRegistry {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly configKey: string;
  readonly subnetsPrefix: string;

  constructor(client: Etcd3, prefix: string) {
    this.client = client;
    this.prefix = prefix.replace(/\/+$/, '');
    this.configKey = `${this.prefix}/config`;
    this.subnetsPrefix = `${this.prefix}/subnets`;
  }

  async getConfig(): Promise<string | undefined> {
    try {
      return (await this.client.get(this.configKey).string()) ?? undefined;
    } catch (e) {
      throw storeError(`reading ${this.configKey}`, e);
    }
  }

  async listSubnets(): Promise<Listing> {
    try {
      const r = await this.client.getAll().prefix(`${this.subnetsPrefix}/`).exec();
      return { revision: String(r.header.revision), kvs: r.kvs.map(toRaw) };
    } catch (e) {
      throw storeError(`listing ${this.subnetsPrefix}`, e);
    }
  }

  async getSubnet(key: string): Promise<RawKv | undefined> {
    try {
      const r = await this.client.get(key).exec();
      return r.kvs[0] ? toRaw(r.kvs[0]) : undefined;
    } catch (e) {
      throw storeError(`reading ${key}`, e);
    }
  }

  /** Compare-and-create with a fresh etcd lease of `ttl` seconds; the lease is revoked if the key exists. */
  async createSubnet(key: string, value: string, ttl: number): Promise<{ created: true; leaseId: string; ttl: number } | { created: false }> {
    let leaseId: string;
    let granted: number;
    try {
      const g = await this.client.leaseClient.leaseGrant({ TTL: ttl });
      leaseId = String(g.ID);
      granted = Number(g.TTL);
    } catch (e) {
      throw storeError('granting a lease', e);
    }
    try {
      const r = await this.client.if(key, 'Version', '==', 0).then(this.client.put(key).value(value).lease(leaseId)).commit();
      if (r.succeeded) return { created: true, leaseId, ttl: granted };
    } catch (e) {
      await this.revoke(leaseId);
      throw storeError(`creating ${key}`, e);
    }
    await this.revoke(leaseId);
    return { created: false };
  }

  /** Puts `value` under `key` only if nobody changed it since `modRevision`; keeps it on `leaseId` ("0": none). */
  async updateSubnet(key: string, value: string, leaseId: string, modRevision: string): Promise<boolean> {
    try {
      const put = this.client.put(key).value(value);
      const r = await this.client.if(key, 'Mod', '==', modRevision).then(leaseId === '0' ? put : put.lease(leaseId)).commit();
      return r.succeeded;
    } catch (e) {
      throw storeError(`updating ${key}`, e);
    }
  }

  async deleteSubnet(key: string): Promise<void> {
    try {
      await this.client.delete().key(key).exec();
    } catch (e) {
      throw storeError(`deleting ${key}`, e);
    }
  }

  /** Refreshes an etcd lease once; its new TTL in seconds, or undefined when etcd no longer knows it. */
  async keepAlive(leaseId: string): Promise<number | undefined> {
    let stream: Awaited<ReturnType<Etcd3['leaseClient']['leaseKeepAlive']>>;
    try {
      stream = await this.client.leaseClient.leaseKeepAlive();
    } catch (e) {
      throw storeError('opening a keep-alive stream', e);
    }
    try {
      const ttl = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no keep-alive answer within 5 s')), 5000);
        stream.on('data', (r: { TTL: string }) => {
          clearTimeout(timer);
          resolve(Number(r.TTL));
        });
        stream.on('error', (e: Error) => {
          clearTimeout(timer);
          reject(e);
        });
        stream.write({ ID: leaseId });
      });
      return ttl > 0 ? ttl : undefined;
    } catch (e) {
      throw storeError(`renewing lease ${leaseId}`, e);
    } finally {
      stream.end();
    }
  }

  /** Seconds left on an etcd lease; -1 when it does not exist (or is "0", no lease). */
  async leaseTTL(leaseId: string): Promise<number> {
    if (leaseId === '0') return -1;
    try {
      return Number((await this.client.leaseClient.leaseTimeToLive({ ID: leaseId })).TTL);
    } catch (e) {
      throw storeError(`reading lease ${leaseId}`, e);
    }
  }

  async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch {
      // Unused leases expire on their own; failing to revoke one early is harmless.
    }
  }
}
