/**
 * The CNI plugin's part of the port guard (pkg/firewall/guard.ts, issue 25): the new port's elements (its
 * MAC, addresses and name), added in one nftables transaction after the veth exists and before the
 * container's end comes up. So the container's first packet is already checked, and none is lost waiting for
 * the daemon to notice the port (docs/adr/0010 measures both: the daemon's reaction is far slower than the
 * ADD). Over nfnetlink, not `nft`: a process per ADD cost more than the rest of the guard.
 *
 * Without a guard table on the host (no daemon has set one up) there is nothing to check ports against, and
 * nothing to add. Any other failure is said on stderr and the ADD goes on: the daemon adds the elements from
 * the attachment record at its next pass, which the new port's link notification starts at once.
 */
import { WeftError } from '../errors/mod.ts';
import { GUARD_TABLE, portKeys, portOf } from '../firewall/mod.ts';
import { isKernelError, NfTables } from '../kernel/mod.ts';
import { stderrLog } from '../log/stderr.ts';

export async function guardPort(r: {
  readonly hostVeth: string;
  readonly mac?: string | undefined;
  readonly ips: readonly string[];
}): Promise<void> {
  const port = portOf(r);
  if (!port) throw new WeftError('WEFT_INTERNAL', `port ${r.hostVeth} (MAC ${r.mac}, ${r.ips.join(', ')}) cannot be put in the port guard`);
  const nf = NfTables.open();
  try {
    await nf.addElements('bridge', GUARD_TABLE, portKeys(port));
  } catch (e) {
    if (isKernelError(e, 'ENOENT')) return;
    stderrLog.warn(`cannot add ${port.name} to the port guard (${(e as Error).message}); the daemon adds it at its next pass`);
  } finally {
    nf.close();
  }
}
