/**
 * Removing one attachment's traces, shared by DEL, GC, the stale-record cleanup of ADD, and reclaiming an
 * earlier boot's addresses. It needs only the record entry (or just the attachment's identity): the host
 * veth is deleted by name (its container end goes with it), the addresses are released, the record goes
 * last, so a teardown interrupted half way is simply repeated by the next one.
 */
import { isGone, type Netlink } from '../kernel/mod.ts';
import { ownerOf } from '../ipam/mod.ts';
import { stderrLog } from '../log/stderr.ts';
import { messageOf } from '../errors/mod.ts';
import { hostVethName } from '../networks/names.ts';
import { unregisterEndpoint } from './daemon-client.ts';
import type { RecordEntry } from './records.ts';
import type { NetworkState } from './state.ts';

/** What a teardown does in the kernel: find the host veth, delete it. */
export type LinkRemover = Pick<Netlink, 'findLink' | 'deleteLink'>;

export async function teardown(
  state: NetworkState,
  entry: RecordEntry,
  host: LinkRemover,
  network = entry.record?.network ?? '',
  daemonSocket?: string,
): Promise<void> {
  const { containerID, ifname, record } = entry;
  if (record?.endpoint && daemonSocket) {
    // Marked first: the daemon registers again the name of an `added` record that etcd lacks, and would put
    // this one back in the ~20 ms between its removal and the record's (the veth's deletion is that slow).
    if (record.state === 'added') state.records.save({ ...record, state: 'removing' });
    await unregister(daemonSocket, record.network, record.endpoint.name, containerID);
  }
  const vethName = record?.hostVeth ?? hostVethName(network, containerID, ifname);
  const link = await host.findLink(vethName);
  if (link?.kind === 'veth') {
    try {
      await host.deleteLink(link.index);
    } catch (e) {
      if (!isGone(e)) throw e;
    }
  }
  const owner = ownerOf(containerID, ifname);
  // An `added` record lists the addresses; otherwise the ADD may have reserved one before it wrote it down.
  const ips = record && record.state !== 'adding' ? record.ips.map((c) => c.split('/')[0]!) : state.addresses.heldBy(owner);
  for (const ip of ips) state.addresses.release(ip, owner);
  state.records.remove(containerID, ifname);
}

/**
 * Removes the container's name record through the daemon. Best effort: DEL must not fail because the daemon is
 * down; the daemon removes records with no attachment behind them when it next reconciles.
 */
async function unregister(socket: string, network: string, name: string, containerID: string): Promise<void> {
  try {
    await unregisterEndpoint(socket, network, name, containerID);
  } catch (e) {
    stderrLog.warn(`${messageOf(e)}; the name record of ${name} on ${network} will be removed by the daemon later`);
  }
}

/**
 * Tears down every attachment recorded in an earlier boot (its container died with the boot); returns how
 * many. The plugin does it when a subnet runs out; the daemon on start, so a reboot leaks no address.
 */
export async function reclaimPreviousBoot(
  state: NetworkState,
  host: LinkRemover,
  bootId: string,
  say: (msg: string) => void = (m) => stderrLog.warn(m),
): Promise<number> {
  let n = 0;
  for (const entry of state.records.list()) {
    if (!entry.record || entry.record.bootId === bootId) continue;
    say(
      `reclaiming ${entry.record.ips.join(', ') || 'nothing'} from container ${entry.containerID} (${entry.ifname}), ` +
        'attached before the last reboot',
    );
    await teardown(state, entry, host);
    n++;
  }
  return n;
}
