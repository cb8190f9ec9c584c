/**
 * What one attachment should look like in the kernel, as data: the network's bridge with its gateway
 * addresses, the host end of the veth on it, and the container end with its addresses and routes. ADD
 * carries the plan out; CHECK compares the kernel against it. Pure: unit-tested without root.
 */
import { formatPrefix } from '../netaddr/cidr.ts';
import { bridgeMac, type BridgeSpec } from '../bridge/mod.ts';
import type { CniResult, CniRoute } from '../cni/types.ts';
import { gatewayOf, prefixLen, type Pool } from '../ipam/mod.ts';
import type { AttachConfig } from './config.ts';
import type { SubnetFile } from './subnet-file.ts';
import { macForIPv4 } from './names.ts';
import type { Family } from '../netaddr/family.ts';

export interface PlannedRoute {
  readonly dst: string;
  readonly gateway: string;
}

export interface AttachmentPlan {
  readonly bridge: BridgeSpec;
  readonly hostVeth: { readonly name: string; readonly mtu: number; readonly hairpin: boolean };
  readonly container: {
    readonly ifname: string;
    readonly mtu: number;
    /** undefined: let the kernel choose (no IPv4 address and no requested MAC). */
    readonly mac: string | undefined;
    readonly addresses: readonly string[];
    readonly routes: readonly PlannedRoute[];
  };
}

export interface PlanInput {
  readonly cfg: AttachConfig;
  readonly lease: SubnetFile;
  /** One address per pool, in the lease's pool order. */
  readonly ips: readonly string[];
  readonly hostVeth: string;
  readonly ifname: string;
  /** Destinations the container already routes (another attachment's, another plugin's). */
  readonly routedDsts?: ReadonlySet<string>;
}

const DEFAULT_ROUTE: Record<Family, string> = { 4: '0.0.0.0/0', 6: '::/0' };

/** The network's bridge on this host: its fixed MAC, MTU and a gateway address per pool of the lease. */
export function bridgeOf(cfg: AttachConfig, lease: SubnetFile): BridgeSpec {
  return {
    name: cfg.bridge,
    mtu: cfg.mtu ?? lease.mtu,
    mac: bridgeMac(
      cfg.bridge,
      lease.pools.map((p) => formatPrefix(p.subnet)),
    ),
    gateways: lease.pools.map((p) => `${gatewayOf(p)}/${prefixLen(p)}`),
  };
}

/**
 * A container gets its default route from its first attachment; a later one (a second network) routes only
 * its cluster network, so the first keeps working. A destination the container already routes is never
 * planned again: the result then lists only routes this attachment really installed.
 */
export function planAttachment({ cfg, lease, ips, hostVeth, ifname, routedDsts }: PlanInput): AttachmentPlan {
  const mtu = cfg.mtu ?? lease.mtu;
  const addresses: string[] = [];
  const routes: PlannedRoute[] = [];
  lease.pools.forEach((pool: Pool, i) => {
    const gw = gatewayOf(pool);
    addresses.push(`${ips[i]}/${prefixLen(pool)}`);
    const dsts =
      cfg.isDefaultGateway && !routedDsts?.has(DEFAULT_ROUTE[pool.family])
        ? [DEFAULT_ROUTE[pool.family]]
        : lease.clusterNetworks[pool.family];
    for (const dst of dsts) if (!routedDsts?.has(dst)) routes.push({ dst, gateway: gw });
  });
  const v4 = lease.pools.findIndex((p) => p.family === 4);
  return {
    bridge: bridgeOf(cfg, lease),
    hostVeth: { name: hostVeth, mtu, hairpin: cfg.hairpinMode },
    container: {
      ifname,
      mtu,
      mac: cfg.requestedMac ?? (v4 >= 0 ? macForIPv4(ips[v4]!) : undefined),
      addresses,
      routes,
    },
  };
}

/** The CNI result for a carried-out plan, given the MACs the kernel reports. */
export function resultOf(
  plan: AttachmentPlan,
  macs: { bridge: string | undefined; hostVeth: string | undefined; container: string | undefined },
  sandbox: string,
  dns: AttachConfig['dns'],
): CniResult {
  const routes: CniRoute[] = plan.container.routes.map((r) => ({ dst: r.dst, gw: r.gateway }));
  return {
    interfaces: [
      { name: plan.bridge.name, ...(macs.bridge && { mac: macs.bridge }), mtu: plan.bridge.mtu },
      { name: plan.hostVeth.name, ...(macs.hostVeth && { mac: macs.hostVeth }), mtu: plan.hostVeth.mtu },
      { name: plan.container.ifname, ...(macs.container && { mac: macs.container }), mtu: plan.container.mtu, sandbox },
    ],
    ips: plan.container.addresses.map((address, i) => ({ address, gateway: plan.bridge.gateways[i]!.split('/')[0]!, interface: 2 })),
    routes,
    ...(dns && { dns }),
  };
}
