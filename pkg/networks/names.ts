/**
 * Names derived from a network, shared by the daemon and the CNI plugin so they always agree: the VXLAN
 * device, the bridge (`w-<name>`; cni0 for the flannel default network), the lease file and the conflist.
 */
import { WeftError } from '../errors/mod.ts';
import { fnvHex } from '../hash/fnv.ts';

const SHORT_SAFE = /^[a-zA-Z0-9_.-]{1,13}$/;

/** A weft network's name, and a container's name on one: letters, digits, _ . -, starting with a letter or digit, at most 63. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** The key of the flannel default network in state paths; weft network names cannot start with "_". */
export const DEFAULT_NETWORK_KEY = '_default';

/** A network's key in state paths and table names: its name, or DEFAULT_NETWORK_KEY for the default network. */
export const networkKey = (network: string): string => (network === '' ? DEFAULT_NETWORK_KEY : inFileName(network));

/**
 * A network name where it becomes part of a file path. Paths go by the name, not the ID (issue 25 asked
 * which): `weft-RED.conflist` is what operators, podman and Docker users see and `weft network connect` finds,
 * and the plugin finds the lease file and its state directory by the name its conflist carries, so an ID
 * would change that contract for every existing attachment. A name NETWORK_NAME admits cannot leave its
 * directory: no `/`, and it starts with a letter or digit, so it is never `.` or `..`. Names read from etcd
 * are judged before anything uses them (record.ts); this refuses anything else, whatever a caller checked.
 */
function inFileName(network: string): string {
  if (!NETWORK_NAME.test(network))
    throw new WeftError('WEFT_INVALID_ARGUMENT', `network name ${JSON.stringify(network)} cannot be part of a file name`);
  return network;
}

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
  return `${runDir}/networks/${inFileName(network)}.env`;
}

export function conflistFileName(confDir: string, network: string): string {
  return `${confDir}/weft-${inFileName(network)}.conflist`;
}
