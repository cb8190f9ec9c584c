/**
 * The hosts running weft, in etcd (issue 24): `<root>/hosts/<publicIP>` holds a host's record (pkg/hosts) on an
 * etcd lease, so it exists exactly while that host's daemon keeps it alive. Only etcd calls and the claim's
 * transaction live here; what a claim may do is pkg/hosts' decision, when to renew is the daemon's.
 *
 * A claim is a compare-and-create (`Version(key) == 0`) or, over this host's own earlier record or an
 * unreadable value, a compare-and-swap on the revision read (`ModRevision(key) == seen`): a host that claims
 * the address between the read and the write makes the transaction fail, and the decision is made again on
 * what it wrote.
 */
import { WeftError } from '../errors/mod.ts';
import {
  decideIdentity,
  decodeHostRecord,
  encodeHostRecord,
  hostKey,
  hostsPrefix,
  type HostRecord,
  type IdentityDecision,
} from '../hosts/mod.ts';
import type { KeyValue, KvClient } from './etcd/mod.ts';
import { storeError } from './registry.ts';

export type HostClaim =
  | { readonly claimed: true; readonly leaseId: string; readonly warnings: readonly string[] }
  | { readonly claimed: false; readonly reason: string };

/** How many times a claim reads and tries again when another writer changed the key in between. */
const CLAIM_ATTEMPTS = 5;

export class HostRegistry {
  readonly #client: KvClient;
  readonly #root: string;

  constructor(client: KvClient, root: string) {
    this.#client = client;
    this.#root = root;
  }

  /** Where a host's record is. */
  keyOf(publicIP: string): string {
    return hostKey(this.#root, publicIP);
  }

  /**
   * The decision on `me` over what etcd holds now, and the key's current entry (for a claim's compare).
   * `only: 'mine'` reads this host's key alone, which is all a refusal depends on: a renewal every 30 s on
   * every host that read every record would cost etcd O(hosts²) bytes (issue 28). The warnings about other
   * hosts (a shared node name or host ID) need every record, so a claim reads them all.
   */
  async check(me: HostRecord, only?: 'mine'): Promise<{ decision: IdentityDecision; mine: KeyValue | undefined }> {
    const key = hostKey(this.#root, me.PublicIP);
    const kvs =
      only === 'mine'
        ? await this.#client
            .get(key)
            .then((kv) => (kv ? [kv] : []))
            .catch((e: unknown) => Promise.reject(storeError(`reading ${key}`, e)))
        : await this.#client
            .getPrefix(hostsPrefix(this.#root))
            .then((r) => r.kvs)
            .catch((e: unknown) => Promise.reject(storeError(`reading ${hostsPrefix(this.#root)}`, e)));
    const mine = kvs.find((kv) => kv.key === key);
    const at = mine === undefined ? undefined : decodeHostRecord(mine.value);
    const others = kvs.flatMap((kv) => {
      if (kv.key === key) return [];
      const r = decodeHostRecord(kv.value);
      return r.ok ? [r.value] : [];
    });
    return { decision: decideIdentity(me, { atMyAddress: at === undefined ? undefined : at.ok ? at.value : 'unreadable', others }), mine };
  }

  /** Claims `me.PublicIP` for `me` on a new etcd lease of `ttlSeconds`, unless another live host holds it. */
  async claim(me: HostRecord, ttlSeconds: number): Promise<HostClaim> {
    const key = hostKey(this.#root, me.PublicIP);
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const { decision, mine } = await this.check(me);
      if (decision.kind === 'refuse') return { claimed: false, reason: decision.reason };
      const lease = await this.#client.leaseGrant(ttlSeconds).catch((e: unknown) => Promise.reject(storeError('granting a lease', e)));
      const compare = mine
        ? ({ key, target: 'mod', op: '==', value: mine.modRevision } as const)
        : ({ key, target: 'version', op: '==', value: 0 } as const);
      let done: boolean;
      try {
        done = await this.#client.txn([compare], [{ put: key, value: encodeHostRecord(me), lease: lease.id }]);
      } catch (e) {
        await this.revoke(lease.id);
        throw storeError(`registering this host at ${key}`, e);
      }
      // A record of this host's earlier run keeps its old etcd lease, now holding nothing; it lapses by itself.
      if (done) return { claimed: true, leaseId: lease.id, warnings: decision.kind === 'warn' ? decision.reasons : [] };
      await this.revoke(lease.id);
    }
    throw new WeftError('WEFT_TRY_AGAIN', `the host record ${key} kept changing while this host claimed it; try again`);
  }

  /** Refreshes the record's lease; its TTL, or undefined when etcd no longer has it. */
  async keepAlive(leaseId: string): Promise<number | undefined> {
    try {
      return await this.#client.leaseKeepAlive(leaseId);
    } catch (e) {
      throw storeError('renewing the host record', e);
    }
  }

  /** Ends a lease and the record on it; best effort (an unrevoked lease lapses by itself). */
  async revoke(leaseId: string): Promise<void> {
    await this.#client.leaseRevoke(leaseId).catch(() => undefined);
  }
}
