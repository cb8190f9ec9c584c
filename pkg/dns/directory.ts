/**
 * Which name a container may resolve, and to what (pure). A container asks by `NAME` or `NAME.NETWORK`; it
 * gets the address of that endpoint on a network it shares with it, for endpoints on any host (the daemon
 * keeps the directory current from etcd). Docker's rule: a container sees names only on its own networks.
 *
 *   NAME.NETWORK  the asker must be on NETWORK; the answer is NAME's address there, or NXDOMAIN (also
 *                 when NETWORK is a weft network the asker is not on: such names never leave the host)
 *   NAME          NAME's address on the first network the asker shares with it (the network whose server
 *                 was asked comes first), else NXDOMAIN: a single label is a container name or nothing, and
 *                 forwarding it would only make the asker wait for the upstream's NXDOMAIN
 *   anything else is forwarded to the host's resolvers
 *
 * Reverse lookups (PTR, `d.c.b.a.in-addr.arpa`) of an address inside a weft network are answered here, as
 * Docker's embedded DNS does: `NAME.NETWORK` when the asker shares that network with the address's
 * endpoint, NXDOMAIN otherwise. Forwarding them made a plain `ping NAME` stall two seconds where no upstream
 * answered. Addresses outside every weft network are forwarded.
 */
import { containsIP, parseAddr, parseNetwork } from '../netaddr/cidr.ts';

export interface DirectoryEntry {
  readonly network: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly containerID: string;
  /** The endpoint's address, without prefix. */
  readonly address: string;
}

export type Decision =
  | { readonly kind: 'answer'; readonly ips: readonly string[] }
  | { readonly kind: 'nxdomain' }
  | { readonly kind: 'forward' };

export function resolve(entries: readonly DirectoryEntry[], qname: string, askerIP: string, askedNetwork: string): Decision {
  const name = qname.toLowerCase().replace(/\.$/, '');
  const asker = entries.find((e) => e.address === askerIP && e.network === askedNetwork) ?? entries.find((e) => e.address === askerIP);
  if (!asker) return { kind: 'forward' };
  const mine = new Set(entries.filter((e) => e.containerID === asker.containerID).map((e) => e.network));
  const order = [askedNetwork, ...[...mine].filter((n) => n !== askedNetwork).sort()].filter((n) => mine.has(n));
  const matches = (e: DirectoryEntry, n: string) => e.name.toLowerCase() === n || e.aliases.some((a) => a.toLowerCase() === n);

  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const suffix = name.slice(dot + 1);
    const net = [...mine].find((n) => n.toLowerCase() === suffix);
    if (!net && (askedNetwork.toLowerCase() === suffix || entries.some((e) => e.network.toLowerCase() === suffix)))
      return { kind: 'nxdomain' };
    if (net) {
      const ips = entries.filter((e) => e.network === net && matches(e, name.slice(0, dot))).map((e) => e.address);
      return ips.length > 0 ? { kind: 'answer', ips } : { kind: 'nxdomain' };
    }
  }
  for (const net of order) {
    const ips = entries.filter((e) => e.network === net && matches(e, name)).map((e) => e.address);
    if (ips.length > 0) return { kind: 'answer', ips };
  }
  return dot > 0 ? { kind: 'forward' } : { kind: 'nxdomain' };
}

/** The IPv4 address a reverse name asks about (`4.3.2.1.in-addr.arpa` -> 1.2.3.4), if it is one. */
export function reverseAddress(qname: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(qname);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return parseAddr(ip)?.family === 4 ? ip : undefined;
}

export type PtrDecision =
  | { readonly kind: 'answer'; readonly names: readonly string[] }
  | { readonly kind: 'nxdomain' }
  | { readonly kind: 'forward' };

/** A reverse lookup of `ip` by `askerIP`; `subnets` are the ranges of the weft networks this host knows. */
export function resolvePtr(entries: readonly DirectoryEntry[], ip: string, askerIP: string, subnets: readonly string[]): PtrDecision {
  const a = parseAddr(ip);
  const ours = subnets.some((s) => {
    const n = parseNetwork(s);
    return a !== undefined && n.ok && containsIP(n.value, a.family, a.ip);
  });
  if (!ours) return { kind: 'forward' };
  const mine = new Set(entries.filter((e) => e.address === askerIP).map((e) => e.network));
  const names = entries.filter((e) => e.address === ip && mine.has(e.network)).map((e) => `${e.name}.${e.network}`);
  return names.length > 0 ? { kind: 'answer', names } : { kind: 'nxdomain' };
}
