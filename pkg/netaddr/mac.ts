/**
 * Ethernet MAC addresses. Readers accept the forms Go's `net.ParseMAC` accepts for 6-byte addresses
 * (flannel writes VtepMAC with Go and reads whatever `net.ParseMAC` takes); weft always writes lowercase
 * colon-separated text, as flanneld does.
 */
import { fnv1a64 } from '../hash/fnv.ts';

const COLON = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const HYPHEN = /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}$/;
const DOTTED = /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}$/;

/** Parses a 6-byte MAC; undefined when invalid. */
export function parseMac(s: string): Uint8Array | undefined {
  let hex: string;
  if (COLON.test(s) || HYPHEN.test(s)) hex = s.replace(/[:-]/g, '');
  else if (DOTTED.test(s)) hex = s.replace(/\./g, '');
  else return undefined;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Canonical lowercase colon form, or undefined when `s` is not a MAC. */
export function canonicalMac(s: string): string | undefined {
  const b = parseMac(s);
  return b && formatMac(b);
}

/** Locally administered unicast: clear the multicast bit, set the local bit (as flannel's pkg/mac does). */
function localUnicast(b: Uint8Array): Uint8Array {
  b[0] = (b[0]! & 0xfe) | 0x02;
  return b;
}

export function randomMac(): string {
  return formatMac(localUnicast(globalThis.crypto.getRandomValues(new Uint8Array(6))));
}

/**
 * A MAC derived from a stable seed (e.g. host identity + VNI), so a VTEP keeps its MAC across restarts and
 * reboots; flannel's etcd mode picks a new random MAC on every boot and peers keep stale entries.
 */
export function stableMac(seed: string): string {
  const h = fnv1a64(seed);
  return formatMac(localUnicast(Uint8Array.from({ length: 6 }, (_, i) => Number((h >> BigInt(8 * i)) & 0xffn))));
}
