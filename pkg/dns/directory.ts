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
 * Reverse lookups (PTR, `d.c.b.a.in-addr.arpa` and `ip6.arpa`) of an address inside a weft network are answered here, as
 * Docker's embedded DNS does: `NAME.NETWORK` when the asker shares that network with the address's
 * endpoint, NXDOMAIN otherwise. Forwarding them made a plain `ping NAME` stall two seconds where no upstream
 * answered. Addresses outside every weft network are forwarded.
 */
import { containsIP, formatAddr, parseAddr, parseNetwork } from '../netaddr/cidr.ts';

export interface DirectoryEntry {
  readonly network: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly containerID: string;
  /** The endpoint's address, without prefix. */
  readonly address: string;
  /** Its IPv6 address, on a dual-stack network (AAAA answers). */
  readonly address6?: string;
}

export type Decision =
  /** `ips6` only when an endpoint has IPv6 (answered to AAAA; `ips` to A). */
  | { readonly kind: 'answer'; readonly ips: readonly string[]; readonly ips6?: readonly string[] }
  | { readonly kind: 'nxdomain' }
  | { readonly kind: 'forward' };

export function resolve(entries: readonly DirectoryEntry[], qname: string, askerIP: string, askedNetwork: string): Decision {
  const name = qname.toLowerCase().replace(/\.$/, '');
  const from = (e: DirectoryEntry) => hasAddress(e, askerIP);
  const asker = entries.find((e) => from(e) && e.network === askedNetwork) ?? entries.find(from);
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
      const found = entries.filter((e) => e.network === net && matches(e, name.slice(0, dot)));
      return found.length > 0 ? answerOf(found) : { kind: 'nxdomain' };
    }
  }
  for (const net of order) {
    const found = entries.filter((e) => e.network === net && matches(e, name));
    if (found.length > 0) return answerOf(found);
  }
  return dot > 0 ? { kind: 'forward' } : { kind: 'nxdomain' };
}

function answerOf(found: readonly DirectoryEntry[]): Decision {
  const ips6 = found.flatMap((e) => (e.address6 ? [e.address6] : []));
  return { kind: 'answer', ips: found.map((e) => e.address).filter((a) => a !== ''), ...(ips6.length > 0 && { ips6 }) };
}

/** Whether `ip` is the entry's address, IPv4 or IPv6 (any spelling of it). */
function hasAddress(e: DirectoryEntry, ip: string): boolean {
  if (e.address === ip) return true;
  if (e.address6 === undefined) return false;
  const x = parseAddr(e.address6);
  const y = parseAddr(ip);
  return x !== undefined && y !== undefined && x.family === y.family && x.ip === y.ip;
}

/**
 * The address a reverse name asks about, if it is one: `4.3.2.1.in-addr.arpa` -> 1.2.3.4, and the 32 nibbles
 * of an `ip6.arpa` name, least significant first -> the IPv6 address in its canonical form.
 */
export function reverseAddress(qname: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(qname);
  if (m) {
    const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
    return parseAddr(ip)?.family === 4 ? ip : undefined;
  }
  const n = /^((?:[0-9a-f]\.){32})ip6\.arpa\.?$/i.exec(qname);
  if (!n) return undefined;
  const hex = n[1]!.split('.').filter(Boolean).reverse().join('');
  return formatAddr(6, BigInt(`0x${hex}`));
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
  const mine = new Set(entries.filter((e) => hasAddress(e, askerIP)).map((e) => e.network));
  const names = entries.filter((e) => hasAddress(e, ip) && mine.has(e.network)).map((e) => `${e.name}.${e.network}`);
  return names.length > 0 ? { kind: 'answer', names } : { kind: 'nxdomain' };
}
