/**
 * Where a network agent's leases live: its own subnet and every peer's. In etcd (flannel's schema: the
 * LeaseKeeper and a list-then-watch feed) or in the Kubernetes API (kube-source.ts: Node.spec.podCIDR and
 * flannel's node annotations). The agent plans and programs the kernel the same way for both.
 */
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { decodeLease, type RawKv, type SubnetLease } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import { PrefixFeed, type Change, type SubnetRegistry } from '../store/mod.ts';
import { LeaseKeeper, type HeldLease, type KeeperState } from './lease-keeper.ts';

export interface PeerHandlers {
  /** Every peer, replacing what was known (after a list). */
  snapshot(peers: readonly SubnetLease[]): void;
  put(peer: SubnetLease): void;
  /** Removing a key that is not a peer is a no-op. */
  remove(key: string): void;
}

export interface AcquireSpec {
  readonly config: FamilyConfig;
  readonly publicIP: string;
  readonly vni: number;
  readonly vtepMac: string;
  /** The encoded lease attributes (flannel's lease JSON). */
  readonly value: string;
  readonly previousSubnet: string | undefined;
  readonly renewMarginMs: number;
  readonly ttlSeconds: number;
}

export interface LeaseSource {
  /** The network config's text, or undefined while it does not exist. */
  readConfig(): Promise<string | undefined>;
  /** How an operator creates a missing config (part of the message the agent logs while it waits). */
  readonly configHint: string;
  readonly configWhere: string;
  acquire(spec: AcquireSpec): Promise<HeldLease>;
  readonly held: HeldLease | undefined;
  readonly state: KeeperState | undefined;
  /** Resolves once the first full set of peers was handed over; own lease excluded, bad entries logged and skipped. */
  watchPeers(h: PeerHandlers): Promise<void>;
  stop(): void;
}

export class EtcdLeaseSource implements LeaseSource {
  readonly #reg: SubnetRegistry;
  readonly #log: Logger;
  #keeper: LeaseKeeper | undefined;
  #feed: PrefixFeed | undefined;

  constructor(registry: SubnetRegistry, log: Logger) {
    this.#reg = registry;
    this.#log = log;
  }

  get configWhere(): string {
    return this.#reg.configKey;
  }

  get configHint(): string {
    return `create it (etcdctl put ${this.#reg.configKey} '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}')`;
  }

  readConfig(): Promise<string | undefined> {
    return this.#reg.getConfig();
  }

  get held(): HeldLease | undefined {
    return this.#keeper?.held;
  }

  get state(): KeeperState | undefined {
    return this.#keeper?.state;
  }

  acquire(s: AcquireSpec): Promise<HeldLease> {
    this.#keeper = new LeaseKeeper(this.#reg, { config: s.config, publicIP: s.publicIP, value: s.value, previousSubnet: s.previousSubnet, renewMarginMs: s.renewMarginMs, ttlSeconds: s.ttlSeconds }, this.#log);
    return this.#keeper.acquire();
  }

  #decode(kv: RawKv): SubnetLease | undefined {
    const d = decodeLease(this.#reg.subnetsPrefix, kv);
    if (d.ok) return d.lease;
    this.#log.warn(`ignoring bad subnet entry: ${d.reason}`, { key: d.key });
    return undefined;
  }

  watchPeers(h: PeerHandlers): Promise<void> {
    this.#feed = new PrefixFeed(this.#reg.client, `${this.#reg.subnetsPrefix}/`, {
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
          } else if (c.key === own) {
            this.#log.warn('this host\'s lease key was deleted; taking the subnet back', { key: c.key });
            void this.#keeper!.takeBack();
          } else {
            h.remove(c.key);
          }
        }
      },
      log: (level, msg) => this.#log[level](msg),
    });
    return this.#feed.start();
  }

  stop(): void {
    this.#feed?.stop();
    this.#keeper?.stop();
  }
}
