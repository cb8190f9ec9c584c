/**
 * Which address families a network's config asks of this host, and what follows from them, pure (issue 15):
 * the family its keys are chosen by (IPv4, or IPv6 for an IPv6-only network), the IPv6 half of a dual-stack
 * one and how it travels, and the subnet file and masquerade spec that describe the host's lease.
 *
 *   device  the flannel default network, as flannel: a second VTEP over the underlay's IPv6 address
 *   inner   named networks: inside their one VTEP, so no IPv6 underlay is needed (as Docker's overlay)
 */
import type { FamilyConfig, NetworkConfig, VxlanBackendConfig } from '../../flannel-compat/network-config.ts';
import { formatSubnetEnv } from '../../flannel-compat/subnet-env.ts';
import type { MasqSpec } from '../firewall/mod.ts';
import type { HeldLease } from '../lease/mod.ts';
import { fail, ok, type Result } from '../netaddr/result.ts';
import type { Family } from '../netaddr/family.ts';

/** How a dual-stack network's IPv6 half travels. */
export type Six = 'device' | 'inner';

export interface Families {
  /** The family the network's keys are chosen by and its VTEP is addressed in: IPv4, or IPv6 for an IPv6-only one. */
  readonly family: Family;
  readonly fam: FamilyConfig;
  /** The IPv6 half of a dual-stack network. */
  readonly fam6: FamilyConfig | undefined;
  readonly vx: VxlanBackendConfig;
  /** How that IPv6 half travels, when there is one. */
  readonly six: Six | undefined;
}

/** The families of a parsed config on this host (`network` "" for the flannel default), or why it cannot be served. */
export function familiesOf(
  cfg: NetworkConfig,
  vx: VxlanBackendConfig,
  network: string,
  iface: { readonly name: string; readonly vtepLocal6?: string | undefined },
): Result<Families> {
  const { ipv4, ipv6 } = cfg;
  const dflt = network === '';
  if (!ipv4 && dflt)
    return fail(
      "IPv6-only (EnableIPv4 false) is not served on the flannel default network: flanneld's etcd mode cannot lease " +
        'such a network to more than one host, so there is no flannel behaviour to match; use dual-stack ' +
        '(EnableIPv4 with EnableIPv6), or an IPv6-only named network (weft network create --ipv6 --subnet fd00:70::/64 NAME)',
    );
  if (ipv4 && ipv6 && dflt && !iface.vtepLocal6)
    return fail(
      `the network is dual-stack (EnableIPv6) but the underlay interface ${iface.name} has no global IPv6 address ` +
        'for the IPv6 VTEP: give it one (or choose another with --iface) and restart weft',
    );
  if (!ipv4) return ok({ family: 6, fam: ipv6!, fam6: undefined, vx, six: undefined });
  return ok({ family: 4, fam: ipv4, fam6: ipv6, vx, six: ipv6 ? (dflt ? 'device' : 'inner') : undefined });
}

/** This host's subnets of the network: the key's family's, and the IPv6 one of a dual-stack network. */
export function subnetsOf(f: Families, held: HeldLease): string[] {
  return f.six && held.subnet6 ? [held.subnet, held.subnet6] : [held.subnet];
}

/** The subnet file's text, as flanneld writes it, then weft's device names. */
export function subnetFileText(
  f: Families,
  held: HeldLease,
  o: { readonly mtu: number; readonly ipMasq: boolean; readonly device: string; readonly device6: string | undefined },
): string {
  const v6 = f.six !== undefined && held.subnet6 !== undefined;
  const ranges =
    f.family === 6
      ? { networks: [], subnet: undefined, ipv6Networks: [f.fam.network], ipv6Subnet: held.subnet }
      : {
          networks: [f.fam.network],
          subnet: held.subnet,
          ipv6Networks: v6 ? [f.fam6!.network] : [],
          ipv6Subnet: v6 ? held.subnet6 : undefined,
        };
  return formatSubnetEnv({
    ...ranges,
    mtu: o.mtu,
    ipMasq: o.ipMasq,
    extra: { WEFT_VXLAN_DEVICE: o.device, ...(o.device6 && { WEFT_VXLAN_DEVICE_V6: o.device6 }) },
  });
}

/** What this host masquerades for the network: its subnets, and the network's ranges per family. */
export function masqSpecOf(key: string, f: Families, held: HeldLease, fullyRandom: boolean): MasqSpec {
  const six = f.six && f.fam6;
  return {
    key,
    subnets: subnetsOf(f, held),
    clusterNetworks: { 4: f.family === 4 ? [f.fam.network] : [], 6: f.family === 6 ? [f.fam.network] : six ? [six.network] : [] },
    fullyRandom,
  };
}
