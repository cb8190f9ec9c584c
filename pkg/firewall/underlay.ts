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
 * The sets' elements are kept one by one (table.ts): when an agent is about to program a new peer, the
 * daemon adds the peer's pair over nfnetlink first (a millisecond, where a keeper pass costs nft processes),
 * so the peer's first datagrams are already accepted; the keeper's pass then deletes pairs no agent has.
 */
import { formatIP, parseIP } from '../netaddr/ip.ts';
import { setKey } from '../rtnl/nftables.ts';
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

/**
 * The table without its elements (kept one by one: the daemon adds a new peer's over nfnetlink before it
 * programs the peer), or undefined while this host runs no VTEP. Ports and VNIs that do not parse are left out.
 */
export function vxlanTable(sources: readonly VxlanSource[]): Omit<NftTable, 'elements'> | undefined {
  const ports = [...new Set(sources.filter((s) => validVni(s.vni)).map((s) => s.port || KERNEL_VXLAN_PORT))]
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536)
    .sort((a, b) => a - b);
  if (ports.length === 0) return undefined;
  const dport = `udp dport { ${ports.join(', ')} }`;
  return {
    family: 'inet',
    name: VXLAN_TABLE,
    body: [
      'set peers4 { typeof @th,96,24 . ip saddr; }',
      'set peers6 { typeof @th,96,24 . ip6 saddr; }',
      'chain input {',
      '  type filter hook input priority filter - 1; policy accept;',
      `  ${dport} @th,96,24 . ip saddr != @peers4 drop comment "VXLAN only from hosts with a lease on its network"`,
      `  ${dport} @th,96,24 . ip6 saddr != @peers6 drop comment "VXLAN only from hosts with a lease on its network"`,
      '}',
    ],
  };
}

/** The sets' elements in nft's syntax: each (VNI, address) pair once, the VNI in hex as nft prints a raw field. */
export function vxlanElements(sources: readonly VxlanSource[]): { peers4: string[]; peers6: string[] } {
  const out = { 4: new Set<string>(), 6: new Set<string>() };
  for (const s of sources.filter((x) => validVni(x.vni)))
    for (const p of s.peers) {
      const a = parseIP(p);
      if (a) out[a.family].add(`0x${s.vni.toString(16)} . ${formatIP(a)}`);
    }
  return { peers4: [...out[4]].sort(), peers6: [...out[6]].sort() };
}

/**
 * Elements as vxlanElements writes them, as the sets' key bytes (the VNI's 3 bytes in network order, padded,
 * then the address), for adding or deleting them over nfnetlink. What is not such an element is left out.
 */
export function vxlanKeys(elements: Iterable<string>): Array<{ set: 'peers4' | 'peers6'; keys: Uint8Array[] }> {
  const out = { peers4: [] as Uint8Array[], peers6: [] as Uint8Array[] };
  for (const e of elements) {
    const [v = '', addr = ''] = e.split(' . ');
    const vni = /^0x[0-9a-f]{1,6}$/.test(v) ? Number.parseInt(v.slice(2), 16) : Number.NaN;
    const a = parseIP(addr);
    if (!a || !validVni(vni)) continue;
    out[a.family === 4 ? 'peers4' : 'peers6'].push(setKey(Uint8Array.of(vni >> 16, (vni >> 8) & 255, vni & 255), a.bytes));
  }
  return [
    { set: 'peers4', keys: out.peers4 },
    { set: 'peers6', keys: out.peers6 },
  ];
}
