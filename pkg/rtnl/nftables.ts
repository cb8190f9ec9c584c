/**
 * nftables set elements over nfnetlink, as `nft add element` sends them (uapi linux/netfilter/nf_tables.h,
 * nfnetlink.h): one batch (BATCH_BEGIN, a NEWSETELEM or DELSETELEM per set, BATCH_END) that the kernel
 * applies as one transaction. Only what the CNI plugin needs to add its port to the port guard, and the daemon
 * to change the guard's quarantine and the VXLAN filter's peers, without starting a process. Pure.
 *
 * A key is the set's key bytes exactly as nft lays them out: each field of a concatenation padded to 4 bytes
 * (an ifname is 16 bytes, zero-filled; a MAC 6 + 2; an IPv4 address 4; an IPv6 address, or 128 raw bits, 16),
 * addresses in network order.
 */
import { AttrWriter } from './attrs.ts';

export const NETLINK_NETFILTER = 12;

const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
export const NFT_NEWSETELEM = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
export const NFT_DELSETELEM = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELSETELEM;

const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_DATA_VALUE = 1;

/** nftables' address families (NFPROTO_*). */
export const NFPROTO = { inet: 1, ip: 2, bridge: 7, ip6: 10 } as const;

/** struct nfgenmsg: family, version (0), resource id in network order. */
function nfgenmsg(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  b.writeUInt8(0, 1);
  b.writeUInt16BE(resId, 2);
  return b;
}

/** The batch's first and last messages' payload (they carry the subsystem, not a family). */
export const batchPayload = (): Buffer => nfgenmsg(0, NFNL_SUBSYS_NFTABLES);

/** A NEWSETELEM (or DELSETELEM: the same payload) message's payload: `keys` of `set` of `table` (family `family`). */
export function encodeNewSetElems(family: keyof typeof NFPROTO, table: string, set: string, keys: readonly Uint8Array[]): Buffer {
  const attrs = new AttrWriter()
    .str(NFTA_SET_ELEM_LIST_TABLE, table)
    .str(NFTA_SET_ELEM_LIST_SET, set)
    .nested(NFTA_SET_ELEM_LIST_ELEMENTS, (list) => {
      for (const k of keys) list.nested(NFTA_LIST_ELEM, (e) => e.nested(NFTA_SET_ELEM_KEY, (d) => d.bytes(NFTA_DATA_VALUE, k)));
    });
  return Buffer.concat([nfgenmsg(NFPROTO[family]), attrs.toBuffer()]);
}

/** One field of a concatenated key, padded to 4 bytes. */
function field(b: Uint8Array): Buffer {
  const out = Buffer.alloc((b.length + 3) & ~3);
  out.set(b);
  return out;
}

/** A key from its fields, as nft concatenates them. */
export const setKey = (...fields: Uint8Array[]): Buffer => Buffer.concat(fields.map(field));

/** An interface name as an `ifname` field (IFNAMSIZ, zero-filled). */
export function ifnameField(name: string): Buffer {
  const out = Buffer.alloc(16);
  out.write(name, 'utf8');
  return out;
}
