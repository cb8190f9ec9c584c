/**
 * Names derived from a network, shared by the daemon and the CNI plugin so they always agree: the VXLAN
 * device, the bridge (`w-<name>`; cni0 for the flannel default network), the lease file and the conflist.
 */
import { fnvHex } from '../hash/fnv.ts';

const SHORT_SAFE = /^[a-zA-Z0-9_.-]{1,13}$/;

/** A weft network's name, and a container's name on one: letters, digits, _ . -, starting with a letter or digit, at most 63. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** The key of the flannel default network in state paths; weft network names cannot start with "_". */
export const DEFAULT_NETWORK_KEY = '_default';

/** A network's key in state paths and table names: its name, or DEFAULT_NETWORK_KEY for the default network. */
export const networkKey = (network: string): string => network || DEFAULT_NETWORK_KEY;

/** `veth` + 8 hex digits of a hash of (network, container ID, ifname): 12 bytes, unique per attachment. */
export function hostVethName(network: string, containerID: string, ifname: string): string {
  return `veth${fnvHex(`${network}\0${containerID}\0${ifname}`, 8)}`;
}

/** The bridge of a network on every host: cni0 for the flannel default network (as flannel's CNI uses). */
export function bridgeName(network: string): string {
  if (network === '') return 'cni0';
  if (SHORT_SAFE.test(network)) return `w-${network}`;
  return `w-${fnvHex(network, 12)}`;
}

/** The VXLAN device: flannel's `flannel.<VNI>` for the default network, `weft.<VNI>` for named ones. */
export function vxlanDeviceName(network: string, vni: number): string {
  return network === '' ? `flannel.${vni}` : `weft.${vni}`;
}

/**
 * A dual-stack network's IPv6 VTEP: flannel's `flannel-v6.<VNI>` for the default network, `weft6.<VNI>` for
 * named ones (`weft-v6.` with an 8-digit VNI would pass the kernel's 15-character limit).
 */
export function vxlanDeviceName6(network: string, vni: number): string {
  return network === '' ? `flannel-v6.${vni}` : `weft6.${vni}`;
}

/** Where the daemon writes a named network's lease file under its run directory. */
export function leaseFileName(runDir: string, network: string): string {
  return `${runDir}/networks/${network}.env`;
}

export function conflistFileName(confDir: string, network: string): string {
  return `${confDir}/weft-${network}.conflist`;
}
