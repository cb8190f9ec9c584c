/**
 * The CNI plugin's part of the port guard (pkg/firewall/guard.ts, issue 25): the new port's elements (its
 * MAC, addresses and name), added in one nft transaction after the veth exists and before the container's
 * end comes up. So the container's first packet is already checked, and none is lost waiting for the daemon
 * to notice the port (measured in docs/adr/0010: the daemon lost that race to the ADD).
 *
 * Without a guard table on the host (no daemon has set one up) there is nothing to check ports against, and
 * nothing to add. Any other failure is said on stderr and the ADD goes on: the daemon adds the elements from
 * the attachment record at its next pass, which the new port's link notification starts at once.
 */
import { WeftError } from '../errors/mod.ts';
import { nft, portOf, portScript } from '../firewall/mod.ts';
import { stderrLog } from '../log/stderr.ts';

export function guardPort(r: { readonly hostVeth: string; readonly mac?: string | undefined; readonly ips: readonly string[] }): void {
  const port = portOf(r);
  if (!port) throw new WeftError('WEFT_INTERNAL', `port ${r.hostVeth} (MAC ${r.mac}, ${r.ips.join(', ')}) cannot be put in the port guard`);
  let stderr: string;
  try {
    const res = nft(['-f', '-'], portScript(port));
    if (res.ok) return;
    stderr = res.stderr;
  } catch (e) {
    stderr = (e as Error).message; // no nft: no guard table either
    return;
  }
  if (/No such file or directory/.test(stderr) && stderr.includes('weft_guard')) return;
  stderrLog.warn(`cannot add ${port.name} to the port guard (${stderr}); the daemon adds it at its next pass`);
}
