/**
 * After a reboot the containers are gone but the CNI plugin's records and address files of the last boot
 * remain (they live under /var/lib): the daemon releases them when it starts, so a reboot leaks no address
 * and the names they held on a network are freed (the endpoint records follow at the next reconcile).
 */
import { currentBootId, networkState, reclaimPreviousBoot } from '../contract/mod.ts';
import { messageOf } from '../errors/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';

export async function reclaimEarlierBoots(o: { dataDir: string; network: string; nl: Netlink; log: Logger }): Promise<void> {
  try {
    const n = await reclaimPreviousBoot(networkState({ dataDir: o.dataDir, network: o.network }), o.nl, currentBootId(), (m) =>
      o.log.info(m),
    );
    if (n > 0) o.log.info(`released ${n} attachment(s) of containers from before the last reboot`);
  } catch (e) {
    o.log.warn(`cannot release the attachments of an earlier boot: ${messageOf(e)}`);
  }
}
