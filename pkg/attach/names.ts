/**
 * Names weft derives instead of storing: the host end of an attachment's veth is a function of the
 * attachment's identity, so a DEL finds it after a crash even when no record was written; the container's
 * MAC follows its IPv4 address (as Docker's overlay does), so a reused address keeps a consistent ARP entry.
 */
import { fnvHex } from '../hash/fnv.ts';
import { bridgeName, leaseFileName } from '../networks/names.ts';
import { ipv4ToBytes, parseIPv4 } from '../netaddr/ip.ts';
import { formatMac } from '../netaddr/mac.ts';

/** The key of the flannel default network in state paths; weft network names cannot start with "_". */
export const DEFAULT_NETWORK_KEY = '_default';

export const networkKey = (network: string): string => network || DEFAULT_NETWORK_KEY;

/** `veth` + 8 hex digits of a hash of (network, container ID, ifname): 12 bytes, unique per attachment. */
export function hostVethName(network: string, containerID: string, ifname: string): string {
  return `veth${fnvHex(`${network}\0${containerID}\0${ifname}`, 8)}`;
}

/** The bridge of a network on every host (shared with the daemon). */
export const defaultBridge = bridgeName;

/** Where the daemon writes the host's lease for a network (with its default --run-dir). */
export function defaultSubnetFile(network: string): string {
  return network === '' ? '/run/flannel/subnet.env' : leaseFileName('/run/weft', network);
}

/** 02:42 followed by the IPv4 address, like Docker's overlay endpoints. */
export function macForIPv4(ip: string): string | undefined {
  const n = parseIPv4(ip);
  return n === undefined ? undefined : formatMac(Uint8Array.of(0x02, 0x42, ...ipv4ToBytes(n)));
}
