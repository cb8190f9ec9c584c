/**
 * VXLAN only from hosts that hold a lease (issue 25). A VTEP takes any UDP datagram sent to its port and
 * delivers what it carries into the network of its VNI: without this, a namespace on the underlay that holds
 * no lease could build a VXLAN device with a network's VNI and reach that network's containers. The kernel
 * has no per-VTEP source list, so the input hook drops datagrams to the VTEPs' ports from any address that is
 * not the public address (IPv4, or IPv6 for flannel-v6 devices) of a peer this host programs, in every
 * network. flanneld hosts in the same etcd hold leases too, so they keep reaching weft's. Pure.
 *
 * The table is replaced whole when the peers change: no one else adds to it, and nft applies the
 * replacement in one transaction, so no datagram meets a half-made table.
 */
import { formatIP, parseIP } from '../netaddr/ip.ts';
import type { NftTable } from './table.ts';

export const VXLAN_TABLE = 'weft_vxlan';

/** The kernel's VXLAN port when a network's config names none (Backend.Port 0). */
export const KERNEL_VXLAN_PORT = 8472;

export interface VxlanSources {
  /** Every VTEP's UDP port (0: the kernel's default). */
  readonly ports: readonly number[];
  /** The public addresses VXLAN may come from, either family. */
  readonly peers: readonly string[];
}

/** The table, or undefined while this host runs no VTEP. Addresses and ports that do not parse are left out. */
export function vxlanTable(s: VxlanSources): NftTable | undefined {
  const ports = [...new Set(s.ports.map((p) => p || KERNEL_VXLAN_PORT))]
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536)
    .sort((a, b) => a - b);
  if (ports.length === 0) return undefined;
  const byFamily = { 4: new Set<string>(), 6: new Set<string>() };
  for (const p of s.peers) {
    const a = parseIP(p);
    if (a) byFamily[a.family].add(formatIP(a));
  }
  const set = (name: string, type: string, es: Set<string>) =>
    `set ${name} { type ${type};${es.size > 0 ? ` elements = { ${[...es].sort().join(', ')} }` : ''} }`;
  const dport = `udp dport { ${ports.join(', ')} }`;
  return {
    family: 'inet',
    name: VXLAN_TABLE,
    body: [
      set('peers4', 'ipv4_addr', byFamily[4]),
      set('peers6', 'ipv6_addr', byFamily[6]),
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      `  ${dport} ip saddr != @peers4 drop comment "VXLAN only from hosts that hold a lease"`,
      `  ${dport} ip6 saddr != @peers6 drop comment "VXLAN only from hosts that hold a lease"`,
      '}',
    ],
  };
}
