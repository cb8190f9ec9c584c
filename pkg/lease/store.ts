/**
 * Where a network's leases are kept, as the lease keeper and the etcd lease source need it (flannel's
 * `Registry` interface, house style): pkg/store's SubnetRegistry is the real one, over etcd; testing/ has an
 * in-memory one for the keeper's unit tests. Nothing here knows about etcd's client.
 */
import type { RawKv } from './lease.ts';

export interface Listing {
  readonly revision: string;
  readonly kvs: readonly RawKv[];
}

export type Change =
  | { readonly type: 'put'; readonly kv: RawKv }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: string };

export interface FeedHandlers {
  snapshot(kvs: readonly RawKv[], revision: string): void;
  changes(changes: readonly Change[]): void;
  log(level: 'info' | 'warn', msg: string): void;
}

/**
 * `taken`: the key exists, or some key under the subnets prefix was created or changed after the listing the
 * choice was made from (list again and choose again); `no-config`: the network's config is gone.
 */
export type CreateResult =
  /** `revision`: the key's create (and mod) revision. */
  | { readonly created: true; readonly leaseId: string; readonly ttl: number; readonly revision: string }
  | { readonly created: false; readonly why: 'taken' | 'no-config' };

export interface SubnetStore {
  /** `<prefix>/config`, for messages. */
  readonly configKey: string;
  /** `<prefix>/subnets` (no trailing slash). */
  readonly subnetsPrefix: string;
  getConfig(): Promise<string | undefined>;
  listSubnets(): Promise<Listing>;
  getSubnet(key: string): Promise<RawKv | undefined>;
  /**
   * Creates `key` on a new lease of `ttl` seconds, in one transaction, only while the network's config exists
   * and only if no key under the subnets prefix was created or changed after revision `asOf` (the listing the
   * subnet was chosen from): two hosts choosing from one listing can never both create, whatever halves their
   * keys share.
   */
  createSubnet(key: string, value: string, ttl: number, asOf: string): Promise<CreateResult>;
  /** Rewrites `key` if unchanged since `modRevision`, keeping it on `leaseId` ("0": none). */
  updateSubnet(key: string, value: string, leaseId: string, modRevision: string): Promise<boolean>;
  deleteSubnet(key: string): Promise<void>;
  /** The lease's new TTL in seconds, or undefined when the store no longer has it. */
  keepAlive(leaseId: string): Promise<number | undefined>;
  /** Seconds left on a lease; -1 when it does not exist. */
  leaseTTL(leaseId: string): Promise<number>;
  revoke(leaseId: string): Promise<void>;
  /** List-then-watch of every subnet key, for as long as it runs. */
  watchSubnets(h: FeedHandlers): { start(): Promise<void>; stop(): void };
}
