/**
 * Who a DNS server of weft answers at all (issue 25), pure. A network's server listens on the network's
 * gateway address, which every host on the underlay with a route to the range can reach; before this, it
 * forwarded anything such a host asked to this host's resolvers: an open resolver, and with a forged source
 * address, an amplifier aimed at anyone. Now:
 *
 * - a network's server answers only endpoints of that network (their address in the directory, which the
 *   daemon keeps from etcd: every host's containers of the network); anyone else gets REFUSED and nothing
 *   is forwarded for them;
 * - the link-local resolver for Docker (one address on `lo`, for every network and for Docker's own) answers
 *   only what runs on this host: the host's own addresses (the kernel drops a packet from outside that claims
 *   one: a martian source), and addresses inside the prefix of a local bridge whose every port is a veth,
 *   i.e. containers behind docker0, Docker's bridge networks, weft's and the CNI bridges. A bridge with any
 *   other port (a physical NIC, a bond, a VLAN, a tap) reaches outside the host, and its prefix does not count.
 *
 * A forged source address still gets through the check, but the answer goes to the forged address, which is
 * then a container of the network or of this host: not a way to use weft against the rest of the world.
 */
import { containsIP, parseAddr, parsePrefix } from '../netaddr/cidr.ts';
import type { DirectoryEntry } from './directory.ts';

const sameAddress = (a: string | undefined, b: NonNullable<ReturnType<typeof parseAddr>>): boolean => {
  if (a === undefined || a === '') return false;
  const x = parseAddr(a);
  return x !== undefined && x.family === b.family && x.ip === b.ip;
};

/** Whether `ip` is the address (IPv4 or IPv6, any spelling) of an endpoint of `network`. */
export function isEndpointOf(entries: readonly DirectoryEntry[], network: string, ip: string): boolean {
  const a = parseAddr(ip);
  if (!a) return false;
  return entries.some((e) => e.network === network && (sameAddress(e.address, a) || sameAddress(e.address6, a)));
}

/** What the link-local resolver admits: this host's addresses, and the prefixes of its container bridges. */
export interface LocalScope {
  readonly hostAddrs: readonly string[];
  readonly containerPrefixes: readonly string[];
}

export const EMPTY_SCOPE: LocalScope = { hostAddrs: [], containerPrefixes: [] };

/** The scope of this host from its links and addresses (as netlink lists them). */
export function localScope(
  links: ReadonlyArray<{ readonly index: number; readonly kind: string | undefined; readonly master: number | undefined }>,
  addrs: ReadonlyArray<{ readonly index: number; readonly address: string; readonly cidr: string }>,
): LocalScope {
  const bridges = links.filter((l) => l.kind === 'bridge');
  const containerBridges = new Set(
    bridges.filter((b) => links.every((p) => p.master !== b.index || p.kind === 'veth')).map((b) => b.index),
  );
  return {
    hostAddrs: addrs.map((a) => a.address),
    containerPrefixes: addrs.filter((a) => containerBridges.has(a.index)).map((a) => a.cidr),
  };
}

/** Whether `ip` is this host or a container behind one of its container bridges. */
export function isLocalAsker(scope: LocalScope, ip: string): boolean {
  const a = parseAddr(ip);
  if (!a) return false;
  if (scope.hostAddrs.some((h) => sameAddress(h, a))) return true;
  return scope.containerPrefixes.some((c) => {
    const p = parsePrefix(c);
    return p.ok && containsIP(p.value, a.family, a.ip);
  });
}
