/**
 * STATUS (spec 1.1.0): can this host serve an ADD now? Code 50 when the lease file is missing or invalid,
 * when a pool has no free address, or when the overlay device the daemon announced is missing or down; 51 when,
 * in addition, containers are attached to a bridge that is gone. Reads only; fast enough to be polled.
 */
import { WeftError } from '../errors/mod.ts';
import { Netlink } from '../kernel/mod.ts';
import { capacity } from '../ipam/mod.ts';
import { formatPrefix } from '../netaddr/cidr.ts';
import type { AttachContext } from './context.ts';
import { readSubnetFile, type SubnetFile } from '../attach/mod.ts';
import { currentBootId } from '../contract/mod.ts';
import { networkState } from '../contract/mod.ts';
import { familyOf } from '../netaddr/family.ts';

export async function statusOf(ctx: AttachContext): Promise<void> {
  const { cfg } = ctx;
  let lease: SubnetFile;
  try {
    lease = readSubnetFile(cfg.subnetFile);
  } catch (e) {
    throw new WeftError('WEFT_NOT_AVAILABLE', (e as Error).message);
  }
  const state = networkState(cfg);
  const bootId = currentBootId();
  const entries = state.records.list();
  // Addresses of attachments from an earlier boot are reclaimed on demand, so they count as free.
  const stale = new Set(
    entries.filter((e) => e.record && e.record.bootId !== bootId).flatMap((e) => e.record!.ips.map((c) => c.split('/')[0]!)),
  );
  const held = [...state.addresses.reservations().keys()].filter((ip) => !stale.has(ip));
  for (const pool of lease.pools) {
    const used = held.filter((ip) => familyOf(ip) === pool.family).length;

    if (BigInt(used) >= capacity(pool))
      throw new WeftError('WEFT_NOT_AVAILABLE', `no free address left in ${formatPrefix(pool.subnet)} (all ${capacity(pool)} are in use)`);
  }
  const host = Netlink.open();
  try {
    if (lease.vxlanDevice) {
      const dev = await host.findLink(lease.vxlanDevice);
      if (!dev?.up)
        throw new WeftError(
          'WEFT_NOT_AVAILABLE',
          `overlay device ${lease.vxlanDevice} is ${dev ? 'down' : 'missing'} on this host; is weft daemon running?`,
        );
    }
    const live = entries.filter((e) => e.record?.state === 'added' && e.record.bootId === bootId);
    if (live.length > 0 && !(await host.findLink(cfg.bridge))) {
      throw new WeftError(
        'WEFT_LIMITED_CONNECTIVITY',
        `bridge ${cfg.bridge} is missing but ${live.length} container(s) are attached to it`,
      );
    }
  } finally {
    host.close();
  }
}
