/**
 * The subnet file: this host's share of a network as the daemon (or flanneld) writes it (flannel's
 * subnet.env, with weft's additions). It is the contract between the lease holder and whoever attaches
 * containers: the CNI plugin needs neither etcd nor the daemon for an ordinary ADD or DEL, and Docker's Join
 * reads the same file. (Choosing and keeping the lease itself is pkg/lease's; this only reads its result.)
 */
import { parseSubnetEnv } from '../../flannel-compat/subnet-env.ts';
import { WeftError } from '../errors/mod.ts';
import { readIfExists } from '../files/mod.ts';
import { makePool, type Pool } from '../ipam/mod.ts';
import type { Family } from '../netaddr/family.ts';

export interface SubnetFile {
  readonly file: string;
  /** One pool per family, IPv4 first. */
  readonly pools: readonly Pool[];
  readonly clusterNetworks: Readonly<Record<Family, readonly string[]>>;
  readonly mtu: number;
  /** Whether the daemon masquerades (FLANNEL_IPMASQ). */
  readonly ipMasq: boolean;
  /** The overlay device the daemon runs for this network (WEFT_VXLAN_DEVICE), when it says. */
  readonly vxlanDevice: string | undefined;
}

export function readSubnetFile(file: string): SubnetFile {
  const text = readIfExists(file);
  if (text === undefined) {
    throw new WeftError('WEFT_TRY_AGAIN', `host lease file ${file} does not exist yet; is weft daemon (or flanneld) running on this host?`);
  }
  const parsed = parseSubnetEnv(text);
  if (!parsed.ok) throw new WeftError('WEFT_DECODE', `host lease file ${file} is invalid: ${parsed.reason}`);
  const e = parsed.value;
  const pools: Pool[] = [];
  try {
    if (e.subnet) pools.push(makePool(e.subnet));
    if (e.ipv6Subnet) pools.push(makePool(e.ipv6Subnet));
  } catch (err) {
    throw new WeftError('WEFT_DECODE', `host lease file ${file}: ${(err as Error).message}`);
  }
  return {
    file,
    pools,
    clusterNetworks: { 4: e.networks, 6: e.ipv6Networks },
    mtu: e.mtu,
    ipMasq: e.ipMasq,
    vxlanDevice: e.extra.WEFT_VXLAN_DEVICE || undefined,
  };
}
