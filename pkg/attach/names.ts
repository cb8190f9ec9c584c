/**
 * Names weft derives instead of storing: the host end of an attachment's veth is a function of the
 * attachment's identity, so a DEL finds it after a crash even when no record was written; the container's
 * MAC follows its IPv4 address (as Docker's overlay does), so a reused address keeps a consistent ARP entry.
 */
import { FLANNEL_SUBNET_FILE, RUN_DIR } from '../defaults.ts';
import { leaseFileName } from '../networks/names.ts';
import { ipv4ToBytes, parseIPv4 } from '../netaddr/ip.ts';
import { formatMac } from '../netaddr/mac.ts';

/** Where the daemon writes the host's lease for a network (with its default --run-dir). */
export function defaultSubnetFile(network: string): string {
  return network === '' ? FLANNEL_SUBNET_FILE : leaseFileName(RUN_DIR, network);
}

/** 02:42 followed by the IPv4 address, like Docker's overlay endpoints. */
export function macForIPv4(ip: string): string | undefined {
  const n = parseIPv4(ip);
  return n === undefined ? undefined : formatMac(Uint8Array.of(0x02, 0x42, ...ipv4ToBytes(n)));
}
