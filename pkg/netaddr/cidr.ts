/**
 * CIDR prefixes of either family, with the arithmetic weft needs: containment, overlap, the n-th address,
 * and walking aligned subnets (flannel-style per-host leases). Addresses are held as bigint so one code path
 * serves IPv4 and IPv6; the sizes involved (a /16 split into /24s, a /24 of pod addresses) keep it cheap.
 */
import { bitsOf, type Family } from './family.ts';
import { bigIntToBytes, bytesToBigInt, formatIP, parseIP, type IPAddr } from './ip.ts';
import { fail, ok, type Result } from './result.ts';

export interface Prefix {
  readonly family: Family;
  /** The address as written (host bits may be set, e.g. an interface address 10.1.2.5/24). */
  readonly ip: bigint;
  readonly prefix: number;
}

export { bitsOf };

const PREFIX_LEN = /^(?:0|[1-9]\d{0,2})$/;

/** Parses `addr/len`, keeping host bits (an interface address). */
export function parsePrefix(s: string): Result<Prefix> {
  const slash = s.indexOf('/');
  if (slash < 0) return fail(`"${s}" is not in CIDR notation (expected address/length, e.g. 10.1.0.0/16)`);
  const addr = parseIP(s.slice(0, slash));
  if (!addr) return fail(`"${s}" has an invalid address "${s.slice(0, slash)}"`);
  const lenText = s.slice(slash + 1);
  const len = Number(lenText);
  if (!PREFIX_LEN.test(lenText) || len > bitsOf(addr.family)) {
    return fail(`"${s}" has an invalid prefix length "${lenText}" (0-${bitsOf(addr.family)} for IPv${addr.family})`);
  }
  return ok({ family: addr.family, ip: bytesToBigInt(addr.bytes), prefix: len });
}

/** Parses a network prefix; host bits set is an error that names the network the user probably meant. */
export function parseNetwork(s: string): Result<Prefix> {
  const p = parsePrefix(s);
  if (!p.ok) return p;
  const net = networkOf(p.value);
  if (net.ip !== p.value.ip) {
    return fail(`subnet ${s} has host bits set; did you mean ${formatPrefix(net)}?`);
  }
  return p;
}

export function mask(family: Family, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

export function networkOf(p: Prefix): Prefix {
  return { family: p.family, ip: p.ip & mask(p.family, p.prefix), prefix: p.prefix };
}

/** Number of addresses in the prefix. */
export function sizeOf(p: Prefix): bigint {
  return 1n << BigInt(bitsOf(p.family) - p.prefix);
}

/** The last address of the prefix (the IPv4 broadcast address). */
export function lastOf(p: Prefix): bigint {
  return networkOf(p).ip + sizeOf(p) - 1n;
}

export function addrOf(family: Family, ip: bigint): IPAddr {
  return { family, bytes: bigIntToBytes(ip, family === 4 ? 4 : 16) };
}

export function formatAddr(family: Family, ip: bigint): string {
  return formatIP(addrOf(family, ip));
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddr(p.family, p.ip)}/${p.prefix}`;
}

/** The address `n` places into the network (0 = network address). */
export function nth(p: Prefix, n: bigint): bigint {
  return networkOf(p).ip + n;
}

export function containsIP(net: Prefix, family: Family, ip: bigint): boolean {
  return net.family === family && (ip & mask(family, net.prefix)) === networkOf(net).ip;
}

export function containsPrefix(outer: Prefix, inner: Prefix): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && containsIP(outer, inner.family, inner.ip);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return containsPrefix(a, b) || containsPrefix(b, a);
}

/** Parses a plain address into (family, bigint). */
export function parseAddr(s: string): { family: Family; ip: bigint } | undefined {
  const a = parseIP(s);
  return a && { family: a.family, ip: bytesToBigInt(a.bytes) };
}

/** The canonical `network/len` text of a prefix string, or undefined when it does not parse. */
export function canonicalNetwork(s: string): string | undefined {
  const p = parsePrefix(s);
  return p.ok ? formatPrefix(networkOf(p.value)) : undefined;
}
