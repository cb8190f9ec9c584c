/**
 * GC (spec 1.1.0): remove every attachment of this CNI network that the runtime no longer lists as valid.
 * Matching is on the exact (containerID, ifname) pair. Reservations whose attachment has no record (an ADD
 * that died before writing one, a record lost in a crash) are released unless listed. Errors are collected
 * and reported together after everything possible has been removed.
 *
 * A missing list: the runtime sent no `cni.dev/valid-attachments` (nor the older `cni.dev/attachments`).
 * weft follows the reference tools (libcni, `cnitool gc`): no list means nothing is valid, and every
 * attachment of the network is collected. The spec has runtimes always send the key; `cnitool gc` relies on
 * this meaning.
 */
import { messageOf, WeftError } from '../errors/mod.ts';
import { Netlink } from '../kernel/mod.ts';
import { DOCKER_IPAM_OWNER } from '../ipam/mod.ts';
import type { AttachContext } from './context.ts';
import { networkState } from '../contract/mod.ts';
import { teardown } from '../contract/mod.ts';

const key = (cid: string, ifname: string) => `${cid}\u0000${ifname}`;

export async function gcAttachments(ctx: AttachContext): Promise<void> {
  const { cfg } = ctx;
  const valid = new Set((cfg.validAttachments ?? []).map((a) => key(a.containerID, a.ifname)));
  const state = networkState(cfg);
  const errors: string[] = [];
  const host = Netlink.open();
  try {
    const entries = state.records.list();
    for (const entry of entries) {
      if (entry.record && entry.record.cniNetwork !== cfg.cniNetwork) continue;
      if (valid.has(key(entry.containerID, entry.ifname))) continue;
      try {
        await teardown(state, entry, host, cfg.network, cfg.daemonSocket);
      } catch (e) {
        errors.push(`${entry.containerID}/${entry.ifname}: ${messageOf(e)}`);
      }
    }
    const recorded = new Set(state.records.list().map((e) => key(e.containerID, e.ifname)));
    for (const [ip, owner] of state.addresses.reservations()) {
      if (owner === DOCKER_IPAM_OWNER) continue;
      const [cid = '', ifname = ''] = owner.split('\r\n');
      if (valid.has(key(cid, ifname)) || recorded.has(key(cid, ifname))) continue;
      if (!state.addresses.release(ip, owner)) errors.push(`address ${ip}: could not release`);
    }
  } finally {
    host.close();
  }
  if (errors.length > 0) throw new WeftError('WEFT_IO', `GC removed what it could; ${errors.length} failure(s): ${errors.join('; ')}`);
}
