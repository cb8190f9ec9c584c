/**
 * Neighbour messages (ndmsg + NDA_* attributes) in their two uses: ARP/NDP entries (family inet/inet6:
 * IP -> MAC on a link) and bridge FDB entries (family bridge: MAC -> remote VTEP IP on a VXLAN device,
 * `self` so the VXLAN driver's own table is used).
 */
import { formatIP, parseIP, type Family } from '../netaddr/ip.ts';
import { formatMac, parseMac } from '../netaddr/mac.ts';
import { AttrWriter, Attrs } from './attrs.ts';
import { AF, NDA, NTF, NUD } from './constants.ts';

export const NDMSG_LEN = 12;

/** An ARP (IPv4) or NDP (IPv6) entry. */
export interface Neigh {
  readonly index: number;
  readonly family: Family;
  readonly ip: string;
  readonly mac: string | undefined;
  readonly state: number;
  readonly flags: number;
  readonly permanent: boolean;
}

/** A bridge forwarding database entry. */
export interface FdbEntry {
  readonly index: number;
  readonly mac: string;
  /** For a VXLAN device: the remote VTEP the MAC is reached through. */
  readonly dst: string | undefined;
  readonly vni: number | undefined;
  readonly vlan: number | undefined;
  /** ifindex of the bridge, for entries on bridge ports. */
  readonly master: number | undefined;
  readonly state: number;
  readonly flags: number;
  readonly self: boolean;
  readonly permanent: boolean;
}

export interface NeighSpec {
  readonly index: number;
  readonly ip: string;
  readonly mac?: string;
  /** Default NUD_PERMANENT. */
  readonly state?: number;
}

export interface FdbSpec {
  readonly index: number;
  readonly mac: string;
  readonly dst?: string;
  readonly vni?: number;
  /** Default NUD_PERMANENT. */
  readonly state?: number;
}

function ndmsg(family: number, index: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new RangeError(what);
  return v;
}

export function encodeNeigh(s: NeighSpec): Buffer {
  const ip = must(parseIP(s.ip), `"${s.ip}" is not an IP address`);
  const w = new AttrWriter().bytes(NDA.DST, ip.bytes);
  if (s.mac !== undefined) w.bytes(NDA.LLADDR, must(parseMac(s.mac), `"${s.mac}" is not a MAC address`));
  return Buffer.concat([ndmsg(ip.family === 4 ? AF.INET : AF.INET6, s.index, s.state ?? NUD.PERMANENT, 0), w.toBuffer()]);
}

export function encodeFdb(s: FdbSpec): Buffer {
  const w = new AttrWriter().bytes(NDA.LLADDR, must(parseMac(s.mac), `"${s.mac}" is not a MAC address`));
  if (s.dst !== undefined) w.bytes(NDA.DST, must(parseIP(s.dst), `"${s.dst}" is not an IP address`).bytes);
  if (s.vni !== undefined) w.u32(NDA.VNI, s.vni);
  return Buffer.concat([ndmsg(AF.BRIDGE, s.index, s.state ?? NUD.PERMANENT, NTF.SELF), w.toBuffer()]);
}

export function encodeNeighDump(family: Family | 'bridge' | undefined): Buffer {
  const af = family === undefined ? AF.UNSPEC : family === 'bridge' ? AF.BRIDGE : family === 4 ? AF.INET : AF.INET6;
  return ndmsg(af, 0, 0, 0);
}

function ipOf(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  if (b.length === 4) return formatIP({ family: 4, bytes: b });
  if (b.length === 16) return formatIP({ family: 6, bytes: b });
  return undefined;
}

export type DecodedNeigh = { readonly kind: 'neigh'; readonly neigh: Neigh } | { readonly kind: 'fdb'; readonly fdb: FdbEntry };

export function decodeNeigh(payload: Buffer): DecodedNeigh | undefined {
  if (payload.length < NDMSG_LEN) throw new RangeError('ndmsg is truncated');
  const af = payload.readUInt8(0);
  const index = payload.readInt32LE(4);
  const state = payload.readUInt16LE(8);
  const flags = payload.readUInt8(10);
  const a = Attrs.parse(payload, NDMSG_LEN);
  const ll = a.get(NDA.LLADDR);
  const mac = ll && ll.length === 6 ? formatMac(ll) : undefined;
  const permanent = (state & NUD.PERMANENT) !== 0;
  if (af === AF.BRIDGE) {
    if (!mac) return undefined;
    return {
      kind: 'fdb',
      fdb: {
        index,
        mac,
        dst: ipOf(a.get(NDA.DST)),
        vni: a.u32(NDA.VNI),
        vlan: a.u16(NDA.VLAN),
        master: a.u32(NDA.MASTER),
        state,
        flags,
        self: (flags & NTF.SELF) !== 0,
        permanent,
      },
    };
  }
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const ip = ipOf(a.get(NDA.DST));
  if (!ip) return undefined;
  return { kind: 'neigh', neigh: { index, family: af === AF.INET ? 4 : 6, ip, mac, state, flags, permanent } };
}
