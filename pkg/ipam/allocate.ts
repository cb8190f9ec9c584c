/**
 * Taking an address from a pool for one attachment: the requested one if given (it must be assignable and
 * free), otherwise the first free candidate in round-robin order.
 */
import { WeftError } from '../errors/mod.ts';
import { formatPrefix } from '../netaddr/cidr.ts';
import { candidates, capacity, isAssignable, type Pool } from './pool.ts';
import type { AddressStore } from './store.ts';

export function allocate(pool: Pool, store: AddressStore, owner: string, requested?: string): string {
  const subnet = formatPrefix(pool.subnet);
  if (requested !== undefined) {
    if (!isAssignable(pool, requested)) {
      throw new WeftError(
        'WEFT_ADDRESS_UNAVAILABLE',
        `requested address ${requested} is not assignable in ${subnet} (outside it, or its network, broadcast or gateway address)`,
      );
    }
    if (!store.reserve(requested, owner)) {
      const holder = store.holder(requested)?.split('\r\n').join(' ') ?? 'another attachment';
      throw new WeftError('WEFT_ADDRESS_UNAVAILABLE', `requested address ${requested} is already in use (by ${holder})`);
    }
    store.setLastReserved(pool.family, requested);
    return requested;
  }
  for (const ip of candidates(pool, store.lastReserved(pool.family))) {
    if (store.reserve(ip, owner)) {
      store.setLastReserved(pool.family, ip);
      return ip;
    }
  }
  throw new WeftError('WEFT_ADDRESS_EXHAUSTED', `no free address left in ${subnet} (all ${capacity(pool)} are in use)`);
}
