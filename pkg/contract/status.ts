/**
 * What the daemon says about itself: `GET /v1/status` on its socket (`?verbose=1` adds every peer and the
 * desired kernel state), and `<run-dir>/status.json`, the same verbose document written after changes so
 * `weft doctor` can compare the kernel with it while the daemon does not answer. `weft status --json` prints
 * this document; its fields are stable (docs/operating.md): new fields may be added, none renamed.
 */
import type { VtepSpec } from '../overlay/mod.ts';
import type { EndpointState } from '../store/mod.ts';

export interface StoreStatus {
  readonly kind: 'etcd' | 'kubernetes';
  /** etcd: each endpoint, the one in use marked `current`. */
  readonly endpoints?: readonly EndpointState[];
  /** Kubernetes: the API server. */
  readonly server?: string;
}

export interface PeerStatus {
  readonly subnet: string;
  readonly publicIP: string;
  readonly vtepMac: string;
  /** A dual-stack peer's IPv6 subnet and address. */
  readonly subnet6?: string;
  readonly publicIPv6?: string;
}

/** A peer's key that claims addresses another key claims (issue 24): not programmed here, and why. */
export interface LeaseConflictStatus {
  readonly key: string;
  readonly publicIP: string;
  readonly subnet: string;
  readonly subnet6?: string;
  /** The key it gives way to: this host's own, or an earlier peer's. */
  readonly with: string;
}

export interface ReconcileStatus {
  readonly at: string;
  readonly ms: number;
  readonly applied: number;
  readonly failed: number;
  readonly repairs: readonly string[];
}

/** What the kernel should hold for a network on this host, for `weft doctor`. */
export interface DesiredState {
  /** The VTEP: name, VNI, port, local address, underlay device index, learning, GBP, MTU, MAC, address, cluster network. */
  readonly vtep: VtepSpec;
  readonly underlay: { readonly name: string; readonly mtu: number };
  readonly subnetLen: number;
  /** The network's bridge, when the daemon keeps it (named networks, and any network with containers). */
  readonly bridge:
    | {
        readonly name: string;
        readonly mtu: number;
        readonly mac: string;
        readonly gateways: readonly string[];
        readonly ports: readonly string[];
      }
    | undefined;
  readonly subnetFile: { readonly path: string; readonly text: string };
  /** A named network's conflist, as the daemon writes it. */
  readonly conflist: { readonly path: string; readonly name: string } | undefined;
  /** Every peer's entries, as the planner wants them (route `oif` is the VTEP's index at the time). */
  readonly overlay: OverlayState;
  /** The ranges the VTEP's entries lie in, each with this host's own subnet (a dual-stack named network's holds both families). */
  readonly scopes?: readonly OverlayScopeState[];
  /** A dual-stack default network's IPv6 VTEP (`flannel-v6.<VNI>`) and its peers' entries. */
  readonly v6?: { readonly vtep: VtepSpec; readonly overlay: OverlayState; readonly scopes: readonly OverlayScopeState[] };
}

export interface OverlayState {
  readonly routes: ReadonlyArray<{ readonly dst: string; readonly gateway: string; readonly direct: boolean }>;
  readonly neighs: ReadonlyArray<{ readonly ip: string; readonly mac: string }>;
  readonly fdb: ReadonlyArray<{ readonly mac: string; readonly dst: string }>;
}

/** A range a VTEP's entries lie in (pkg/overlay's scope, without the device). */
export interface OverlayScopeState {
  readonly clusterNetwork: string;
  readonly subnetLen: number;
  readonly ownSubnet: string;
}

export interface NetworkStatus {
  /** `default` for the flannel default network, else the named network's name. */
  readonly name: string;
  readonly vni: number | undefined;
  readonly subnet: string | undefined;
  /** A dual-stack network's IPv6 subnet here, and its VTEP. */
  readonly subnet6?: string | undefined;
  readonly device6?: string | undefined;
  /** When the lease expires unless renewed (ISO time); undefined for a reservation or a Kubernetes podCIDR. */
  readonly leaseExpires: string | undefined;
  readonly device: string | undefined;
  readonly mtu: number | undefined;
  readonly ready: boolean;
  readonly reason: string | undefined;
  readonly peers: { readonly count: number; readonly list?: readonly PeerStatus[] };
  /** Peers' keys sharing a subnet with this host's or an earlier peer's key; left out of the kernel. */
  readonly conflicts?: readonly LeaseConflictStatus[];
  readonly lastReconcile: ReconcileStatus | undefined;
  /** Repairs made since the daemon started. */
  readonly repairs: number;
  /** With verbose: what the kernel should hold. */
  readonly desired?: DesiredState;
}

/** The Docker plugin's side (`--docker`): where Docker finds it, and how its last pass over Docker went. */
export interface DockerStatus {
  readonly pluginSocket: string;
  readonly engine: string;
  /** The link-local resolver for Docker containers, when one runs. */
  readonly resolver: string | undefined;
  /** When the daemon last talked to dockerd successfully (ISO time), and the last failure since. */
  readonly lastOkAt: string | undefined;
  readonly error: string | undefined;
  /** The Docker networks of driver weft, as dockerd listed them on the last pass. */
  readonly networks: readonly string[];
}

export interface DaemonStatus {
  readonly version: string;
  readonly node: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** When this document was made (status.json may be older than now). */
  readonly at: string;
  readonly store: StoreStatus;
  readonly cni: { readonly confDir: string | undefined; readonly dataDir: string };
  /** Weft's nftables tables as nft printed them after weft applied them ("family name" -> text). */
  readonly firewall: Readonly<Record<string, string>>;
  readonly networks: readonly NetworkStatus[];
  /** Present when the daemon serves Docker's plugin API. */
  readonly docker?: DockerStatus;
}
