/**
 * Leases in etcd, in flannel's schema: this host's through the LeaseKeeper, every peer's from a
 * list-then-watch of the network's subnets. A peer entry of another backend type, or one that does not
 * decode, is logged once and skipped.
 */
import type { Logger } from '../log/logger.ts';
import { realClock, type Clock } from './clock.ts';
import { LeaseKeeper, type HeldLease, type KeeperState } from './keeper.ts';
import { decodeLease, type RawKv, type SubnetLease } from './lease.ts';
import type { AcquireSpec, LeaseSource, PeerHandlers } from './source.ts';
import type { Change, SubnetStore } from './store.ts';

export class EtcdLeaseSource implements LeaseSource {
  readonly #store: SubnetStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  #keeper: LeaseKeeper | undefined;
  #feed: { start(): Promise<void>; stop(): void } | undefined;
  /** Keys already reported as skipped, with the reason, so a bad entry is said once, not on every list. */
  readonly #skipped = new Map<string, string>();

  constructor(store: SubnetStore, log: Logger, clock: Clock = realClock) {
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
  }

  get configWhere(): string {
    return this.#store.configKey;
  }

  get configHint(): string {
    return `create it (etcdctl put ${this.#store.configKey} '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}')`;
  }

  readConfig(): Promise<string | undefined> {
    return this.#store.getConfig();
  }

  get held(): HeldLease | undefined {
    return this.#keeper?.held;
  }

  get state(): KeeperState | undefined {
    return this.#keeper?.state;
  }

  acquire(s: AcquireSpec, signal: AbortSignal): Promise<HeldLease> {
    this.#keeper = new LeaseKeeper(
      this.#store,
      {
        config: s.config,
        config6: s.config6,
        previousSubnet6: s.previousSubnet6,
        publicIP: s.publicIP,
        value: s.value,
        previousSubnet: s.previousSubnet,
        pinned: s.pinned,
        renewMarginMs: s.renewMarginMs,
        ttlSeconds: s.ttlSeconds,
      },
      { log: this.#log, clock: this.#clock, signal },
    );
    return this.#keeper.acquire();
  }

  #skip(key: string, reason: string): undefined {
    if (this.#skipped.get(key) !== reason) this.#log.warn(`ignoring subnet entry ${key}: ${reason}`);
    this.#skipped.set(key, reason);
    return undefined;
  }

  #decode(kv: RawKv): SubnetLease | undefined {
    const d = decodeLease(this.#store.subnetsPrefix, kv);
    if (!d.ok) return this.#skip(d.key, d.reason);
    const a = d.lease.attrs;
    if (a.backendType !== 'vxlan' || !a.vxlan)
      return this.#skip(
        kv.key,
        `its backend is ${a.backendType || 'not set'}, and weft serves vxlan only ` +
          `(the host at ${a.publicIP} is unreachable over the overlay)`,
      );
    this.#skipped.delete(kv.key);
    return d.lease;
  }

  watchPeers(h: PeerHandlers): Promise<void> {
    this.#feed = this.#store.watchSubnets({
      snapshot: (kvs) => {
        const own = this.#keeper?.held?.key;
        const peers: SubnetLease[] = [];
        let ownSeen = false;
        for (const kv of kvs) {
          if (kv.key === own) {
            ownSeen = true;
            void this.#keeper!.ownPut(kv);
            continue;
          }
          const l = this.#decode(kv);
          if (l) peers.push(l);
        }
        if (own && !ownSeen) void this.#keeper!.takeBack();
        h.snapshot(peers);
      },
      changes: (changes: readonly Change[]) => {
        const own = this.#keeper?.held?.key;
        for (const c of changes) {
          if (c.type === 'put') {
            if (c.kv.key === own) {
              void this.#keeper!.ownPut(c.kv);
              continue;
            }
            const l = this.#decode(c.kv);
            if (l) h.put(l);
            else h.remove(c.kv.key);
          } else if (c.key === own) {
            this.#log.warn("this host's lease key was deleted; taking the subnet back", { key: c.key });
            void this.#keeper!.takeBack();
          } else {
            this.#skipped.delete(c.key);
            h.remove(c.key);
          }
        }
      },
      log: (level, msg) => this.#log[level](msg),
    });
    return this.#feed.start();
  }

  release(): Promise<void> {
    return this.#keeper?.release() ?? Promise.resolve();
  }

  stop(): void {
    this.#feed?.stop();
  }
}
