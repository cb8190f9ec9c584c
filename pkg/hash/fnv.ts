/**
 * FNV-1a, for names derived from identities (veth and bridge names, stable MACs). Not for security: the
 * inputs are ours and collisions only need to be rare, and node:crypto costs the CNI plugin several
 * milliseconds of start-up to load.
 */
const OFFSET64 = 0xcbf29ce484222325n;
const PRIME64 = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** 64-bit FNV-1a of the UTF-8 bytes of `s`. */
export function fnv1a64(s: string): bigint {
  let h = OFFSET64;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * PRIME64) & MASK64;
  return h;
}

/** `n` hex digits (n <= 16) of the 64-bit FNV-1a hash. */
export function fnvHex(s: string, n: number): string {
  return fnv1a64(s).toString(16).padStart(16, '0').slice(0, n);
}
