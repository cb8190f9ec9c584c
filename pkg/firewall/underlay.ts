/**
 * VXLAN only from hosts that hold a lease (issue 25). A VTEP takes any UDP datagram sent to its port and
 * delivers what it carries into the network of its VNI: without this, a namespace on the underlay that holds
 * no lease could build a VXLAN device with a network's VNI and reach that network's containers. The kernel
 * has no per-VTEP source list, so the input hook drops datagrams to the VTEPs' ports unless their (VNI,
 * source address) pair is one this host programs: the public address (IPv4, or IPv6 for flannel-v6 devices)
 * of a peer the network's agent sends VXLAN to. So a host with a lease on one network cannot inject into
 * another either (a flanneld host in the same etcd holds default-network leases: it keeps reaching weft's
 * default network, and only that). Pure.
 *
 * The VNI is read from the VXLAN header (RFC 7348: 8 bytes after the UDP header's 8, the VNI in bytes 4-6:
 * `@th,96,24`). A datagram too short to hold one matches no rule and goes on to the VTEP, which drops it.
 * The table is replaced whole when the peers change: no one else adds to it, and nft applies the
 * replacement in one transaction, so no datagram meets a half-made table.
 */
import { formatIP, parseIP } from '../netaddr/ip.ts';
import type { NftTable } from './table.ts';

export const VXLAN_TABLE = 'weft_vxlan';

/** The kernel's VXLAN port when a network's config names none (Backend.Port 0). */
export const KERNEL_VXLAN_PORT = 8472;

/** One network's VTEP(s) on this host: its UDP port (0: the kernel's default), its VNI, and whom it sends to. */
export interface VxlanSource {
  readonly port: number;
  readonly vni: number;
  /** The public addresses, either family, VXLAN of this VNI may come from. */
  readonly peers: readonly string[];
}

const validVni = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffff;

/** The table, or undefined while this host runs no VTEP. Addresses, ports and VNIs that do not parse are left out. */
export function vxlanTable(sources: readonly VxlanSource[]): NftTable | undefined {
  const valid = sources.filter((s) => validVni(s.vni));
  const ports = [...new Set(valid.map((s) => s.port || KERNEL_VXLAN_PORT))]
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536)
    .sort((a, b) => a - b);
  if (ports.length === 0) return undefined;
  const pairs = { 4: new Set<string>(), 6: new Set<string>() };
  for (const s of valid)
    for (const p of s.peers) {
      const a = parseIP(p);
      if (a) pairs[a.family].add(`${s.vni} . ${formatIP(a)}`);
    }
  const set = (name: string, addr: string, es: Set<string>) =>
    `set ${name} { typeof @th,96,24 . ${addr} saddr;${es.size > 0 ? ` elements = { ${[...es].sort().join(', ')} }` : ''} }`;
  const dport = `udp dport { ${ports.join(', ')} }`;
  return {
    family: 'inet',
    name: VXLAN_TABLE,
    body: [
      set('peers4', 'ip', pairs[4]),
      set('peers6', 'ip6', pairs[6]),
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      `  ${dport} @th,96,24 . ip saddr != @peers4 drop comment "VXLAN only from hosts with a lease on its network"`,
      `  ${dport} @th,96,24 . ip6 saddr != @peers6 drop comment "VXLAN only from hosts with a lease on its network"`,
      '}',
    ],
  };
}
