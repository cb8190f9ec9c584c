/**
 * A network agent's state as the daemon reports it (`weft status`, status.json) and the desired kernel state
 * `weft doctor` compares the kernel with: built from a snapshot of the agent, pure.
 */
import type { DesiredState, LeaseConflictStatus, NetworkStatus, OverlayScopeState, OverlayState } from '../contract/status.ts';
import type { SubnetLease } from '../lease/mod.ts';
import type { OverlayDesired } from '../overlay/mod.ts';
import type { BridgeSpec } from '../bridge/mod.ts';
import type { VtepSpec } from '../overlay/mod.ts';
import type { AgentStatus } from './agent.ts';
import { compareText } from '../text.ts';

export interface AgentSnapshot {
  readonly network: string;
  readonly status: AgentStatus;
  readonly vni: number | undefined;
  /** epoch ms; Infinity for a reservation; undefined without a lease. */
  readonly expiresAt: number | undefined;
  readonly vtep: VtepSpec | undefined;
  readonly peers: Iterable<SubnetLease>;
  readonly conflicts: readonly LeaseConflictStatus[];
  /** With verbose: the desired state's parts the agent holds. */
  readonly desired?: {
    readonly plan: OverlayDesired;
    readonly scopes: readonly OverlayScopeState[];
    readonly v6?: { readonly vtep: VtepSpec; readonly plan: OverlayDesired; readonly scopes: readonly OverlayScopeState[] };
    readonly underlay: { readonly name: string; readonly mtu: number };
    readonly subnetLen: number;
    readonly bridge: (BridgeSpec & { readonly ports: readonly string[] }) | undefined;
    readonly subnetFile: { readonly path: string; readonly text: string };
  };
}

export function networkReport(a: AgentSnapshot, verbose: boolean): NetworkStatus {
  const s = a.status;
  const peers = [...a.peers].flatMap((p) =>
    p.attrs.vxlan
      ? [
          {
            subnet: p.subnet,
            publicIP: p.attrs.publicIP,
            vtepMac: p.attrs.vxlan.vtepMac,
            ...(p.ipv6Subnet && p.attrs.publicIPv6 && { subnet6: p.ipv6Subnet, publicIPv6: p.attrs.publicIPv6 }),
          },
        ]
      : [],
  );
  const v = a.vtep;
  return {
    name: a.network === '' ? 'default' : a.network,
    vni: a.vni,
    subnet: s.subnet,
    ...(s.subnet6 && { subnet6: s.subnet6, device6: s.device6 }),
    leaseExpires: a.expiresAt !== undefined && Number.isFinite(a.expiresAt) ? new Date(a.expiresAt).toISOString() : undefined,
    device: s.device,
    mtu: v?.mtu,
    ready: s.ready,
    reason: s.reason,
    peers: { count: peers.length, ...(verbose && { list: peers.sort((x, y) => compareText(x.subnet, y.subnet)) }) },
    ...(a.conflicts.length > 0 && { conflicts: a.conflicts }),
    lastReconcile: s.lastReconcile,
    repairs: s.repairs,
    ...(verbose && v && a.desired && { desired: desiredState(v, a.desired) }),
  };
}

function desiredState(v: VtepSpec, d: NonNullable<AgentSnapshot['desired']>): DesiredState {
  return {
    vtep: { ...v },
    underlay: d.underlay,
    subnetLen: d.subnetLen,
    bridge: d.bridge && { name: d.bridge.name, mtu: d.bridge.mtu, mac: d.bridge.mac, gateways: d.bridge.gateways, ports: d.bridge.ports },
    subnetFile: d.subnetFile,
    conflist: undefined,
    overlay: overlayState(d.plan),
    scopes: d.scopes,
    ...(d.v6 && { v6: { vtep: { ...d.v6.vtep }, overlay: overlayState(d.v6.plan), scopes: d.v6.scopes } }),
  };
}

function overlayState(plan: OverlayDesired): OverlayState {
  return {
    routes: [...plan.routes.values()].map((r) => ({ dst: r.dst, gateway: r.gateway, direct: r.oif === undefined })),
    neighs: [...plan.neighs].map(([ip, mac]) => ({ ip, mac })),
    fdb: [...plan.fdb].map(([mac, dst]) => ({ mac, dst })),
  };
}
