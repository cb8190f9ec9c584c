/**
 * Where a network agent's leases live: its own subnet and every peer's. In etcd (etcd-source.ts: the keeper
 * and a list-then-watch feed) or in the Kubernetes API (kube-source.ts: Node.spec.podCIDR and flannel's node
 * annotations). The agent plans and programs the kernel the same way for both.
 */
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import type { HeldLease, KeeperState } from './keeper.ts';
import type { SubnetLease } from './lease.ts';

export interface PeerHandlers {
  /** Every peer, replacing what was known (after a list). */
  snapshot(peers: readonly SubnetLease[]): void;
  put(peer: SubnetLease): void;
  /** Removing a key that is not a peer is a no-op. */
  remove(key: string): void;
}

export interface AcquireSpec {
  /** The range the key's subnet is chosen from, of the key family: an IPv6-only network's is its IPv6 range. */
  readonly config: FamilyConfig;
  /** The network's IPv6 half, when it is dual-stack (never for an IPv6-only network: that is `config`). */
  readonly config6?: FamilyConfig | undefined;
  readonly previousSubnet6?: string | undefined;
  readonly publicIP: string;
  readonly vni: number;
  readonly vtepMac: string;
  /** A dual-stack default network's IPv6 VTEP (`device`): its MAC and the address peers reach it at. */
  readonly vtepMac6?: string | undefined;
  readonly publicIPv6?: string | undefined;
  /** The encoded lease attributes (flannel's lease JSON). */
  readonly value: string;
  readonly previousSubnet: string | undefined;
  /** Containers on this host are numbered from previousSubnet. */
  readonly pinned: boolean;
  readonly renewMarginMs: number;
  readonly ttlSeconds: number;
}

export interface LeaseSource {
  /** The network config's text, or undefined while it does not exist. */
  readConfig(): Promise<string | undefined>;
  /** How an operator creates a missing config (part of the message the agent logs while it waits). */
  readonly configHint: string;
  readonly configWhere: string;
  /** Resolves once a lease is held; rejects with the signal's reason when it aborts. */
  acquire(spec: AcquireSpec, signal: AbortSignal): Promise<HeldLease>;
  readonly held: HeldLease | undefined;
  readonly state: KeeperState | undefined;
  /** Resolves once the first full set of peers was handed over; own lease excluded, bad entries logged and skipped. */
  watchPeers(h: PeerHandlers): Promise<void>;
  /** Gives the lease up, where the source can (the network was removed). */
  release(): Promise<void>;
  stop(): void;
}
