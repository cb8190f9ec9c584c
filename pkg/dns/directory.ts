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
 */
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
