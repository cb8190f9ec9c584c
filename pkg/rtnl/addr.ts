/**
 * Address messages (ifaddrmsg + IFA_* attributes). For IPv4 the interface address is IFA_LOCAL and IFA_ADDRESS
 * is the peer (equal on non point-to-point links); IPv6 sends only IFA_ADDRESS.
 */
import { lastOf, parsePrefix } from '../netaddr/cidr.ts';
import { bigIntToBytes, formatIP, parseIP, type Family } from '../netaddr/ip.ts';
import { AttrWriter, Attrs } from './attrs.ts';
import { AF, IFA, IFA_F, RT_SCOPE } from './constants.ts';

export const IFADDRMSG_LEN = 8;

export interface Addr {
  readonly index: number;
  readonly family: Family;
  readonly address: string;
  readonly prefix: number;
  /** `address/prefix`, the way `ip addr` shows it. */
  readonly cidr: string;
  readonly scope: number;
  readonly flags: number;
  readonly label: string | undefined;
  readonly tentative: boolean;
  readonly dadFailed: boolean;
}

export interface AddrSpec {
  readonly index: number;
  /** `10.1.2.3/24` or `fd00::3/64`. */
  readonly cidr: string;
  readonly scope?: number;
  /** Skip duplicate address detection (IPv6). */
  readonly noDad?: boolean;
  /** Do not add the prefix route the kernel adds by default. */
  readonly noPrefixRoute?: boolean;
}

export const familyToAf = (f: Family): number => (f === 4 ? AF.INET : AF.INET6);

export function encodeAddr(s: AddrSpec): Buffer {
  const p = parsePrefix(s.cidr);
  if (!p.ok) throw new RangeError(p.reason);
  const { family, prefix } = p.value;
  const ip = parseIP(s.cidr.slice(0, s.cidr.indexOf('/')))!;
  let flags = 0;
  if (s.noDad === true) flags |= IFA_F.NODAD;
  if (s.noPrefixRoute === true) flags |= IFA_F.NOPREFIXROUTE;
  const hdr = Buffer.alloc(IFADDRMSG_LEN);
  hdr.writeUInt8(familyToAf(family), 0);
  hdr.writeUInt8(prefix, 1);
  hdr.writeUInt8(flags & 0xff, 2);
  hdr.writeUInt8(s.scope ?? RT_SCOPE.UNIVERSE, 3);
  hdr.writeUInt32LE(s.index, 4);
  const w = new AttrWriter();
  if (family === 4) {
    w.bytes(IFA.LOCAL, ip.bytes);
    w.bytes(IFA.ADDRESS, ip.bytes);
    // Like vishvananda/netlink's AddrAdd, fill the broadcast address for prefixes that have one.
    if (prefix < 31) w.bytes(IFA.BROADCAST, bigIntToBytes(lastOf(p.value), 4));
  } else {
    w.bytes(IFA.ADDRESS, ip.bytes);
  }
  if (flags > 0xff) w.u32(IFA.FLAGS, flags);
  return Buffer.concat([hdr, w.toBuffer()]);
}

export function encodeAddrDump(family: Family | undefined): Buffer {
  const hdr = Buffer.alloc(IFADDRMSG_LEN);
  hdr.writeUInt8(family === undefined ? AF.UNSPEC : familyToAf(family), 0);
  return hdr;
}

export function decodeAddr(payload: Buffer): Addr | undefined {
  if (payload.length < IFADDRMSG_LEN) throw new RangeError('ifaddrmsg is truncated');
  const af = payload.readUInt8(0);
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const family: Family = af === AF.INET ? 4 : 6;
  const prefix = payload.readUInt8(1);
  const a = Attrs.parse(payload, IFADDRMSG_LEN);
  const raw = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  if (!raw || raw.length !== (family === 4 ? 4 : 16)) return undefined;
  const address = formatIP({ family, bytes: raw });
  const flags = a.u32(IFA.FLAGS) ?? payload.readUInt8(2);
  return {
    index: payload.readUInt32LE(4),
    family,
    address,
    prefix,
    cidr: `${address}/${prefix}`,
    scope: payload.readUInt8(3),
    flags,
    label: a.str(IFA.LABEL),
    tentative: (flags & IFA_F.TENTATIVE) !== 0,
    dadFailed: (flags & IFA_F.DADFAILED) !== 0,
  };
}
