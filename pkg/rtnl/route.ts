/**
 * Route messages (rtmsg + RTA_* attributes). Destinations are always CIDR text (`0.0.0.0/0` for a default
 * route), so a planner's desired route and a dumped route compare as plain values.
 */
import { formatPrefix, networkOf, parsePrefix } from '../netaddr/cidr.ts';
import { bytesToBigInt, formatIP, parseIP, type Family } from '../netaddr/ip.ts';
import { AttrWriter, Attrs } from './attrs.ts';
import { AF, RTA, RTAX, RTM_F_CLONED, RTN, RTNH_F_ONLINK, RTPROT, RT_SCOPE, RT_TABLE } from './constants.ts';
import { familyToAf } from './addr.ts';

export const RTMSG_LEN = 12;

export interface Route {
  readonly family: Family;
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly oif: number | undefined;
  readonly onlink: boolean;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly type: number;
  readonly metric: number | undefined;
  readonly prefsrc: string | undefined;
  readonly mtu: number | undefined;
  readonly advmss: number | undefined;
  /** A cached (cloned) route, not part of the table. */
  readonly cloned: boolean;
}

export interface RouteSpec {
  readonly dst: string;
  readonly gateway?: string;
  readonly oif?: number;
  readonly onlink?: boolean;
  /** Default: link scope for a device route (no gateway), universe otherwise. */
  readonly scope?: number;
  readonly table?: number;
  readonly metric?: number;
  /** Default RTPROT_BOOT, as `ip route add` uses. */
  readonly protocol?: number;
  readonly type?: number;
  readonly prefsrc?: string;
  readonly mtu?: number;
  readonly advmss?: number;
}

function ipBytes(s: string, family: Family): Uint8Array {
  const a = parseIP(s);
  if (!a || a.family !== family) throw new RangeError(`"${s}" is not an IPv${family} address`);
  return a.bytes;
}

/**
 * RTM_NEWROUTE/RTM_DELROUTE payload. For a delete, unspecified type, protocol and scope match any route
 * (scope NOWHERE is the kernel's wildcard), so the route is found by destination, table and next hop.
 */
export function encodeRoute(s: RouteSpec, purpose: 'add' | 'delete' = 'add'): Buffer {
  const p = parsePrefix(s.dst);
  if (!p.ok) throw new RangeError(p.reason);
  const dst = networkOf(p.value);
  const family = dst.family;
  const table = s.table ?? RT_TABLE.MAIN;
  const add = purpose === 'add';
  const hdr = Buffer.alloc(RTMSG_LEN);
  hdr.writeUInt8(familyToAf(family), 0);
  hdr.writeUInt8(dst.prefix, 1);
  hdr.writeUInt8(table < 256 ? table : RT_TABLE.UNSPEC, 4);
  hdr.writeUInt8(s.protocol ?? (add ? RTPROT.BOOT : RTPROT.UNSPEC), 5);
  const defaultScope = add ? (s.gateway === undefined && s.oif !== undefined ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE) : RT_SCOPE.NOWHERE;
  hdr.writeUInt8(s.scope ?? defaultScope, 6);
  hdr.writeUInt8(s.type ?? (add ? RTN.UNICAST : RTN.UNSPEC), 7);
  hdr.writeUInt32LE(s.onlink === true ? RTNH_F_ONLINK : 0, 8);
  const w = new AttrWriter();
  if (dst.prefix > 0) w.bytes(RTA.DST, ipBytes(formatPrefix(dst).split('/')[0]!, family));
  if (s.gateway !== undefined) w.bytes(RTA.GATEWAY, ipBytes(s.gateway, family));
  if (s.oif !== undefined) w.u32(RTA.OIF, s.oif);
  if (s.metric !== undefined) w.u32(RTA.PRIORITY, s.metric);
  if (s.prefsrc !== undefined) w.bytes(RTA.PREFSRC, ipBytes(s.prefsrc, family));
  w.u32(RTA.TABLE, table);
  if (s.mtu !== undefined || s.advmss !== undefined) {
    w.nested(RTA.METRICS, (m) => {
      if (s.mtu !== undefined) m.u32(RTAX.MTU, s.mtu);
      if (s.advmss !== undefined) m.u32(RTAX.ADVMSS, s.advmss);
    });
  }
  return Buffer.concat([hdr, w.toBuffer()]);
}

export function encodeRouteDump(family: Family | undefined): Buffer {
  const hdr = Buffer.alloc(RTMSG_LEN);
  hdr.writeUInt8(family === undefined ? AF.UNSPEC : familyToAf(family), 0);
  return hdr;
}

function ipOf(b: Buffer | undefined, family: Family): string | undefined {
  if (!b || b.length !== (family === 4 ? 4 : 16)) return undefined;
  return formatIP({ family, bytes: b });
}

export function decodeRoute(payload: Buffer): Route | undefined {
  if (payload.length < RTMSG_LEN) throw new RangeError('rtmsg is truncated');
  const af = payload.readUInt8(0);
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const family: Family = af === AF.INET ? 4 : 6;
  const dstLen = payload.readUInt8(1);
  const a = Attrs.parse(payload, RTMSG_LEN);
  const dstRaw = a.get(RTA.DST);
  const dstIP = dstRaw ? bytesToBigInt(dstRaw) : 0n;
  const metrics = a.nested(RTA.METRICS);
  const flags = payload.readUInt32LE(8);
  return {
    family,
    dst: formatPrefix({ family, ip: dstIP, prefix: dstLen }),
    gateway: ipOf(a.get(RTA.GATEWAY), family),
    oif: a.u32(RTA.OIF),
    onlink: (flags & RTNH_F_ONLINK) !== 0,
    table: a.u32(RTA.TABLE) ?? payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    scope: payload.readUInt8(6),
    type: payload.readUInt8(7),
    metric: a.u32(RTA.PRIORITY),
    prefsrc: ipOf(a.get(RTA.PREFSRC), family),
    mtu: metrics?.u32(RTAX.MTU),
    advmss: metrics?.u32(RTAX.ADVMSS),
    cloned: (flags & RTM_F_CLONED) !== 0,
  };
}
