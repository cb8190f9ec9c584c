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
import { FAMILIES, type Family, type PerFamily } from '../netaddr/family.ts';
import { fail, ok, type Result } from '../netaddr/result.ts';

/** How a dual-stack network's IPv6 half travels. */
export type Six = 'device' | 'inner';

export interface Families {
  /** The family the network's keys are chosen by and its VTEP is addressed in: IPv4, or IPv6 for an IPv6-only one. */
  readonly keyFamily: Family;
  /** The network's range of each family it has: an IPv6-only network has only `6`. */
  readonly configs: PerFamily<FamilyConfig>;
  readonly vx: VxlanBackendConfig;
  /** How a dual-stack network's IPv6 half travels, when this host serves one. */
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
  if (!ipv4) return ok({ keyFamily: 6, configs: { 6: ipv6! }, vx, six: undefined });
  return ok({ keyFamily: 4, configs: { 4: ipv4, ...(ipv6 && { 6: ipv6 }) }, vx, six: ipv6 ? (dflt ? 'device' : 'inner') : undefined });
}

/** The range the network's keys are chosen from: its key family's. */
export const keyConfig = (f: Families): FamilyConfig => f.configs[f.keyFamily]!;

/** A dual-stack network's IPv6 range (the half its keys are not chosen by); undefined for a single-family one. */
export const ipv6Half = (f: Families): FamilyConfig | undefined => (f.keyFamily === 4 ? f.configs[6] : undefined);

/** The families this host serves on the network: the key family, and IPv6 when it serves a dual-stack half. */
export const servedFamilies = (f: Families): Family[] => FAMILIES.filter((x) => x === f.keyFamily || (x === 6 && f.six !== undefined));

/**
 * This host's subnet of each family it serves: the key's subnet by the key family (an IPv6-only network's
 * `held.subnet` is its IPv6 subnet), and a dual-stack key's IPv6 half.
 */
export function heldSubnets(f: Families, held: HeldLease): PerFamily<string> {
  return { [f.keyFamily]: held.subnet, ...(f.six && held.subnet6 && { 6: held.subnet6 }) };
}

/** This host's subnets of the network, IPv4 first. */
export function subnetsOf(f: Families, held: HeldLease): string[] {
  const subnets = heldSubnets(f, held);
  return FAMILIES.flatMap((x) => subnets[x] ?? []);
}

/** The network's ranges of the families this host serves it in. */
function servedRanges(f: Families, held: HeldLease): Record<Family, string[]> {
  const subnets = heldSubnets(f, held);
  const range = (x: Family) => (subnets[x] && f.configs[x] ? [f.configs[x].network] : []);
  return { 4: range(4), 6: range(6) };
}

/** The subnet file's text, as flanneld writes it, then weft's device names. */
export function subnetFileText(
  f: Families,
  held: HeldLease,
  o: { readonly mtu: number; readonly ipMasq: boolean; readonly device: string; readonly device6: string | undefined },
): string {
  const subnets = heldSubnets(f, held);
  const ranges = servedRanges(f, held);
  return formatSubnetEnv({
    networks: ranges[4],
    subnet: subnets[4],
    ipv6Networks: ranges[6],
    ipv6Subnet: subnets[6],
    mtu: o.mtu,
    ipMasq: o.ipMasq,
    extra: { WEFT_VXLAN_DEVICE: o.device, ...(o.device6 && { WEFT_VXLAN_DEVICE_V6: o.device6 }) },
  });
}

/** What this host masquerades for the network: its subnets, and the network's ranges per family. */
export function masqSpecOf(key: string, f: Families, held: HeldLease, fullyRandom: boolean): MasqSpec {
  return { key, subnets: subnetsOf(f, held), clusterNetworks: servedRanges(f, held), fullyRandom };
}
