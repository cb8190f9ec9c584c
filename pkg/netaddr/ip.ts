/**
 * IPv4 and IPv6 addresses: strict parsing and canonical formatting.
 *
 * Every address that enters weft from outside (CNI config, etcd, flags, subnet.env) goes through these
 * parsers, so they are strict on purpose: `1.2..3`, `0x10.0.0.1`, `01.2.3.4` and `1e2.0.0.1` are rejected
 * (a hand-rolled `Number(octet)` parser accepts several of them; see docs/style anchors, Deno std).
 * IPv6 is formatted the way Go's `net.IP.String()` does (RFC 5952), because flannel writes its dual-stack
 * subnet keys that way and weft must produce byte-identical keys.
 */

import { familyOf, type Family } from './family.ts';

export type { Family };

/** An IPv4 address as an unsigned 32-bit integer (host order). */
export type IPv4 = number;

const DEC_OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** Parses dotted-quad IPv4 (no leading zeros, no hex, exactly four octets); undefined when invalid. */
export function parseIPv4(s: string): IPv4 | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!DEC_OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: IPv4): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipv4ToBytes(n: IPv4): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

export function ipv4FromBytes(b: Uint8Array, offset = 0): IPv4 {
  return ((b[offset]! << 24) >>> 0) + (b[offset + 1]! << 16) + (b[offset + 2]! << 8) + b[offset + 3]!;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses an IPv6 address (RFC 4291 text forms, including an embedded dotted quad); 16 bytes or undefined. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  let text = s;
  let v4Words: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    const v4 = parseIPv4(lastPart);
    if (v4 === undefined) return undefined;
    v4Words = [v4 >>> 16, v4 & 0xffff];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!HEX_GROUP.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const explicit = head.length + tail.length + v4Words.length;
    if (explicit > 7) return undefined;
    words = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail, ...v4Words];
  } else {
    words = [...head, ...v4Words];
    if (words.length !== 8) return undefined;
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 255;
  });
  return out;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function formatIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** A parsed address of either family, as network-order bytes (4 or 16). */
export interface IPAddr {
  readonly family: Family;
  readonly bytes: Uint8Array;
}

export function parseIP(s: string): IPAddr | undefined {
  if (familyOf(s) === 6) {
    const bytes = parseIPv6(s);
    return bytes && { family: 6, bytes };
  }
  const n = parseIPv4(s);
  return n === undefined ? undefined : { family: 4, bytes: ipv4ToBytes(n) };
}

export function formatIP(a: IPAddr): string {
  return a.family === 4 ? formatIPv4(ipv4FromBytes(a.bytes)) : formatIPv6(a.bytes);
}

/** The canonical text of an address, or undefined when `s` is not an address. */
export function canonicalIP(s: string): string | undefined {
  const a = parseIP(s);
  return a && formatIP(a);
}

export function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

export function bigIntToBytes(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 255n);
    n >>= 8n;
  }
  return out;
}
