/**
 * Link messages (ifinfomsg + IFLA_* attributes), including the nested IFLA_LINKINFO for the three kinds weft
 * creates: veth (peer made directly in another namespace), bridge, and vxlan (typed from IFLA_VXLAN_*).
 * Bridge-port settings (hairpin, isolated) travel as IFLA_INFO_SLAVE_DATA, as `ip link set X type
 * bridge_slave hairpin on` sends them.
 */
import { formatIP, parseIP } from '../netaddr/ip.ts';
import { formatMac, parseMac } from '../netaddr/mac.ts';
import { AttrWriter, Attrs } from './attrs.ts';
import { AF, IF_OPER, IFF, IFLA, IFLA_BRPORT, IFLA_INFO, IFLA_VXLAN, VETH_INFO_PEER } from './constants.ts';
import type { Family } from '../netaddr/family.ts';

export const IFINFOMSG_LEN = 16;

export interface VxlanInfo {
  readonly vni: number;
  /** UDP destination port; the kernel default is 8472. */
  readonly port: number | undefined;
  /** Source address of encapsulated packets (the VTEP address). */
  readonly local: string | undefined;
  readonly group: string | undefined;
  /** ifindex of the underlay device. */
  readonly dev: number | undefined;
  readonly learning: boolean;
  readonly ttl: number;
  readonly tos: number;
  readonly ageing: number | undefined;
  readonly proxy: boolean;
  readonly l2miss: boolean;
  readonly l3miss: boolean;
  readonly udpCsum: boolean | undefined;
  readonly gbp: boolean;
}

export interface BridgePortInfo {
  readonly hairpin: boolean;
  readonly isolated: boolean;
  readonly learning: boolean | undefined;
}

export interface Link {
  readonly index: number;
  readonly name: string;
  readonly mtu: number;
  readonly mac: string | undefined;
  readonly flags: number;
  readonly up: boolean;
  readonly operstate: string;
  /** ifindex of the bridge this link is a port of. */
  readonly master: number | undefined;
  /** `veth`, `bridge`, `vxlan`, ... (undefined for physical and loopback devices). */
  readonly kind: string | undefined;
  /** IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace). */
  readonly parentIndex: number | undefined;
  /** Set when IFLA_LINK refers to another namespace. */
  readonly linkNetnsid: number | undefined;
  readonly vxlan: VxlanInfo | undefined;
  readonly bridgePort: BridgePortInfo | undefined;
}

export interface VxlanSpec {
  readonly type: 'vxlan';
  readonly vni: number;
  readonly port?: number;
  readonly local?: string;
  readonly dev?: number;
  readonly learning?: boolean;
  readonly ttl?: number;
  readonly tos?: number;
  readonly gbp?: boolean;
  readonly udpCsum?: boolean;
}

export interface VethPeerSpec {
  readonly name: string;
  readonly mtu?: number;
  readonly mac?: string;
  /** An open fd of the namespace the peer is created in. */
  readonly netnsFd?: number;
}

export type LinkKindSpec = { readonly type: 'veth'; readonly peer: VethPeerSpec } | { readonly type: 'bridge' } | VxlanSpec;

export interface NewLinkSpec {
  readonly name: string;
  readonly kind: LinkKindSpec;
  readonly mtu?: number;
  readonly mac?: string;
  readonly up?: boolean;
  readonly master?: number;
  readonly netnsFd?: number;
}

export interface LinkChange {
  readonly index: number;
  readonly name?: string;
  readonly mtu?: number;
  readonly mac?: string;
  readonly up?: boolean;
  /** A bridge's ifindex, or 0 to detach from any bridge. */
  readonly master?: number;
  readonly netnsFd?: number;
  readonly hairpin?: boolean;
  readonly isolated?: boolean;
}

function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(AF.UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

function macBytes(mac: string): Uint8Array {
  const b = parseMac(mac);
  if (!b) throw new RangeError(`"${mac}" is not a MAC address`);
  return b;
}

function addrBytes(ip: string): { family: Family; bytes: Uint8Array } {
  const a = parseIP(ip);
  if (!a) throw new RangeError(`"${ip}" is not an IP address`);
  return a;
}

function writeCommon(w: AttrWriter, s: { name?: string; mtu?: number; mac?: string; master?: number; netnsFd?: number }): void {
  if (s.name !== undefined) w.str(IFLA.IFNAME, s.name);
  if (s.mtu !== undefined) w.u32(IFLA.MTU, s.mtu);
  if (s.mac !== undefined) w.bytes(IFLA.ADDRESS, macBytes(s.mac));
  if (s.master !== undefined) w.u32(IFLA.MASTER, s.master);
  if (s.netnsFd !== undefined) w.u32(IFLA.NET_NS_FD, s.netnsFd);
}

function writeVxlanData(w: AttrWriter, s: VxlanSpec): void {
  w.u32(IFLA_VXLAN.ID, s.vni);
  if (s.dev !== undefined) w.u32(IFLA_VXLAN.LINK, s.dev);
  if (s.local !== undefined) {
    const a = addrBytes(s.local);
    w.bytes(a.family === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, a.bytes);
  }
  w.u8(IFLA_VXLAN.TTL, s.ttl ?? 0);
  w.u8(IFLA_VXLAN.TOS, s.tos ?? 0);
  w.u8(IFLA_VXLAN.LEARNING, s.learning === true ? 1 : 0);
  if (s.port !== undefined && s.port > 0) w.be16(IFLA_VXLAN.PORT, s.port);
  if (s.udpCsum !== undefined) w.u8(IFLA_VXLAN.UDP_CSUM, s.udpCsum ? 1 : 0);
  if (s.gbp === true) w.flag(IFLA_VXLAN.GBP);
}

/** RTM_NEWLINK payload creating a link. */
export function encodeNewLink(s: NewLinkSpec): Buffer {
  const w = new AttrWriter();
  writeCommon(w, s);
  w.nested(IFLA.LINKINFO, (li) => {
    li.str(IFLA_INFO.KIND, s.kind.type);
    const kind = s.kind;
    if (kind.type === 'veth') {
      li.nested(IFLA_INFO.DATA, (d) => {
        const peer = new AttrWriter();
        writeCommon(peer, kind.peer);
        d.bytes(VETH_INFO_PEER, Buffer.concat([ifinfomsg(0), peer.toBuffer()]));
      });
    } else if (kind.type === 'vxlan') {
      li.nested(IFLA_INFO.DATA, (d) => writeVxlanData(d, kind));
    }
  });
  const up = s.up === true;
  return Buffer.concat([ifinfomsg(0, up ? IFF.UP : 0, up ? IFF.UP : 0), w.toBuffer()]);
}

/** RTM_NEWLINK (no CREATE) payload changing an existing link. */
export function encodeLinkChange(c: LinkChange): Buffer {
  const w = new AttrWriter();
  writeCommon(w, c);
  if (c.hairpin !== undefined || c.isolated !== undefined) {
    w.nested(IFLA.LINKINFO, (li) => {
      li.str(IFLA_INFO.SLAVE_KIND, 'bridge');
      li.nested(IFLA_INFO.SLAVE_DATA, (d) => {
        if (c.hairpin !== undefined) d.u8(IFLA_BRPORT.MODE, c.hairpin ? 1 : 0);
        if (c.isolated !== undefined) d.u8(IFLA_BRPORT.ISOLATED, c.isolated ? 1 : 0);
      });
    });
  }
  const flags = c.up === true ? IFF.UP : 0;
  const change = c.up === undefined ? 0 : IFF.UP;
  return Buffer.concat([ifinfomsg(c.index, flags, change), w.toBuffer()]);
}

/** RTM_GETLINK/RTM_DELLINK payload naming a link by index or by name. */
export function encodeLinkRef(ref: { index: number } | { name: string }): Buffer {
  if ('index' in ref) return ifinfomsg(ref.index);
  return Buffer.concat([ifinfomsg(0), new AttrWriter().str(IFLA.IFNAME, ref.name).toBuffer()]);
}

/** RTM_GETLINK dump payload. */
export function encodeLinkDump(): Buffer {
  return ifinfomsg(0);
}

function ipAt(a: Attrs, type: number): string | undefined {
  const b = a.get(type);
  if (!b) return undefined;
  if (b.length === 4) return formatIP({ family: 4, bytes: b });
  if (b.length === 16) return formatIP({ family: 6, bytes: b });
  return undefined;
}

function decodeVxlan(d: Attrs): VxlanInfo {
  const udpCsum = d.u8(IFLA_VXLAN.UDP_CSUM);
  return {
    vni: d.u32(IFLA_VXLAN.ID) ?? 0,
    port: d.be16(IFLA_VXLAN.PORT),
    local: ipAt(d, IFLA_VXLAN.LOCAL) ?? ipAt(d, IFLA_VXLAN.LOCAL6),
    group: ipAt(d, IFLA_VXLAN.GROUP) ?? ipAt(d, IFLA_VXLAN.GROUP6),
    dev: d.u32(IFLA_VXLAN.LINK) || undefined,
    learning: d.u8(IFLA_VXLAN.LEARNING) === 1,
    ttl: d.u8(IFLA_VXLAN.TTL) ?? 0,
    tos: d.u8(IFLA_VXLAN.TOS) ?? 0,
    ageing: d.u32(IFLA_VXLAN.AGEING),
    proxy: d.u8(IFLA_VXLAN.PROXY) === 1,
    l2miss: d.u8(IFLA_VXLAN.L2MISS) === 1,
    l3miss: d.u8(IFLA_VXLAN.L3MISS) === 1,
    udpCsum: udpCsum === undefined ? undefined : udpCsum === 1,
    gbp: d.has(IFLA_VXLAN.GBP),
  };
}

function decodeBridgePort(d: Attrs): BridgePortInfo {
  const learning = d.u8(IFLA_BRPORT.LEARNING);
  return {
    hairpin: d.u8(IFLA_BRPORT.MODE) === 1,
    isolated: d.u8(IFLA_BRPORT.ISOLATED) === 1,
    learning: learning === undefined ? undefined : learning === 1,
  };
}

/** Decodes an RTM_NEWLINK message (a GETLINK reply or dump entry). */
export function decodeLink(payload: Buffer): Link {
  if (payload.length < IFINFOMSG_LEN) throw new RangeError('ifinfomsg is truncated');
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const a = Attrs.parse(payload, IFINFOMSG_LEN);
  const info = a.nested(IFLA.LINKINFO);
  const kind = info?.str(IFLA_INFO.KIND);
  const data = info?.nested(IFLA_INFO.DATA);
  const slaveKind = info?.str(IFLA_INFO.SLAVE_KIND);
  const slaveData = info?.nested(IFLA_INFO.SLAVE_DATA);
  const mac = a.get(IFLA.ADDRESS);
  const oper = a.u8(IFLA.OPERSTATE) ?? 0;
  return {
    index,
    name: a.str(IFLA.IFNAME) ?? '',
    mtu: a.u32(IFLA.MTU) ?? 0,
    mac: mac && mac.length === 6 ? formatMac(mac) : undefined,
    flags,
    up: (flags & IFF.UP) !== 0,
    operstate: IF_OPER[oper] ?? 'unknown',
    master: a.u32(IFLA.MASTER) || undefined,
    kind,
    parentIndex: a.u32(IFLA.LINK),
    linkNetnsid: a.s32(IFLA.LINK_NETNSID),
    vxlan: kind === 'vxlan' && data ? decodeVxlan(data) : undefined,
    bridgePort: slaveKind === 'bridge' && slaveData ? decodeBridgePort(slaveData) : undefined,
  };
}
