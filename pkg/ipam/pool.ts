/**
 * An address pool (the host's subnet for one family) and the order addresses are tried in. Pure.
 *
 * Order, as host-local does it: round-robin starting after the last address reserved, so an address just
 * released is not handed out again at once (a crash-looping container would otherwise keep the same address
 * and confuse caches and connection tracking), wrapping at the end, skipping the network address, the IPv4
 * broadcast address and the gateway.
 */
import { containsIP, formatAddr, lastOf, networkOf, parseAddr, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import type { Family } from '../netaddr/ip.ts';
import { bitsOf } from '../netaddr/family.ts';

export interface Pool {
  readonly family: Family;
  readonly subnet: Prefix;
  readonly gateway: bigint;
  readonly first: bigint;
  readonly last: bigint;
}

/** A pool over `subnetCidr` (a network CIDR) whose gateway is its first address. */
export function makePool(subnetCidr: string): Pool {
  const p = parsePrefix(subnetCidr);
  if (!p.ok) throw new RangeError(p.reason);
  const subnet = networkOf(p.value);
  const bits = bitsOf(subnet.family);

  if (subnet.prefix > bits - 2) throw new RangeError(`subnet ${subnetCidr} is too small to allocate from (it needs at least 2 host bits)`);
  const first = subnet.ip + 1n;
  const last = subnet.family === 4 ? lastOf(subnet) - 1n : lastOf(subnet);
  return { family: subnet.family, subnet, gateway: first, first, last };
}

/** Whether `ip` may be given to a container: inside the pool's usable range and not the gateway. */
export function isAssignable(pool: Pool, ip: string): boolean {
  const a = parseAddr(ip);
  return (
    !!a &&
    a.family === pool.family &&
    containsIP(pool.subnet, a.family, a.ip) &&
    a.ip >= pool.first &&
    a.ip <= pool.last &&
    a.ip !== pool.gateway
  );
}

/** Usable addresses, excluding the gateway. */
export function capacity(pool: Pool): bigint {
  return pool.last - pool.first + 1n - 1n;
}

/** Every assignable address once, starting after `lastReserved` when it lies in the pool. */
export function* candidates(pool: Pool, lastReserved?: string): Generator<string> {
  const last = lastReserved === undefined ? undefined : parseAddr(lastReserved);
  const inRange = last !== undefined && last.family === pool.family && last.ip >= pool.first && last.ip <= pool.last;
  const start = inRange ? (last.ip >= pool.last ? pool.first : last.ip + 1n) : pool.first;
  const span = pool.last - pool.first + 1n;
  for (let i = 0n; i < span; i++) {
    const ip = pool.first + ((start - pool.first + i) % span);
    if (ip !== pool.gateway) yield formatAddr(pool.family, ip);
  }
}

export const gatewayOf = (pool: Pool): string => formatAddr(pool.family, pool.gateway);
export const prefixLen = (pool: Pool): number => pool.subnet.prefix;
