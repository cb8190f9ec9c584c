/**
 * Masquerade: containers reach addresses outside their network through the host's address, while traffic
 * between containers (on any host) keeps its source. One description of what a host masquerades for a network
 * (`MasqSpec`), two renderings of it:
 *
 * - The daemon's `--ip-masq` (and forwarding), with flanneld's rules (its nftables mode,
 *   pkg/trafficmngr/nftables), one table per network. C is the cluster network, P this host's subnet:
 *
 *     postrouting (nat):  mark 0x4000 -> return        (kube-proxy's packets: never masquerade twice)
 *                         P -> C return; C -> P return; !C -> P return
 *                         C -> !224.0.0.0/4 masquerade; !C -> C masquerade
 *     forward (filter):   C -> accept; -> C accept     (with --iptables-forward-rules, flannel's default)
 *
 * - The CNI plugin's `ipMasq` (flannel's CNI config, when the daemon does not masquerade): one chain per
 *   network in table `inet weft-cni`, one rule per family (not per container, unlike the reference bridge
 *   plugin):  ip saddr <host subnet> ip daddr != { <cluster networks>, 224.0.0.0/4 } masquerade
 *
 * Every range passes nftCidr (values.ts) on its way into a rule; table and chain names keep only [A-Za-z0-9_]
 * of the network's key.
 */
import type { NftChain, NftTable } from './table.ts';
import { nftCidr, nftFamily } from './values.ts';
import { type Family, familyOf } from '../netaddr/family.ts';

export interface MasqSpec {
  /** The network's key (its name; `_default` for the flannel default network). */
  readonly key: string;
  /** This host's subnets of the network. */
  readonly subnets: readonly string[];
  /** The network's ranges per family: traffic to them keeps its source address. */
  readonly clusterNetworks: Readonly<Record<Family, readonly string[]>>;
  readonly fullyRandom?: boolean;
}

export const masqTableName = (key: string): string => `weft_${key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '')}`;

/**
 * The daemon's table for a network and one family (`ip` or `ip6`, one table each, as flanneld's nftables mode
 * keeps flannel-ipv4 and flannel-ipv6), or undefined when the network has no subnet of that family here, or
 * the host neither masquerades nor accepts forwarding.
 */
export function flannelMasqTable(
  s: MasqSpec,
  o: { readonly masquerade: boolean; readonly forward: boolean },
  family: Family = 4,
): NftTable | undefined {
  const c = s.clusterNetworks[family][0];
  const p = s.subnets.find((x) => familyOf(x) === family);
  if (!c || !p) return undefined;
  const [C, P] = [nftCidr(c), nftCidr(p)];
  const ip = nftFamily(family);
  const multicast = family === 4 ? '224.0.0.0/4' : 'ff00::/8';
  const masq = `masquerade${s.fullyRandom ? ' fully-random' : ''}`;
  const body: string[] = [];
  if (o.masquerade) {
    body.push(
      'chain postrouting {',
      '  type nat hook postrouting priority srcnat; policy accept;',
      '  meta mark & 0x4000 == 0x4000 return',
      `  ${ip} saddr ${P} ${ip} daddr ${C} return`,
      `  ${ip} saddr ${C} ${ip} daddr ${P} return`,
      `  ${ip} saddr != ${C} ${ip} daddr ${P} return`,
      `  ${ip} saddr ${C} ${ip} daddr != ${multicast} ${masq}`,
      `  ${ip} saddr != ${C} ${ip} daddr ${C} ${masq}`,
      '}',
    );
  }
  if (o.forward)
    body.push(
      'chain forward {',
      '  type filter hook forward priority filter; policy accept;',
      `  ${ip} saddr ${C} accept`,
      `  ${ip} daddr ${C} accept`,
      '}',
    );
  return body.length > 0 ? { family: ip, name: masqTableName(s.key), body } : undefined;
}

/** The table that holds the CNI plugin's chains, one per network. */
export const CNI_MASQ_TABLE = 'weft-cni';

export const cniMasqChainName = (key: string): string => `masq_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** The CNI plugin's chain for a network. */
export function cniMasqChain(s: MasqSpec): NftChain {
  const rules = s.subnets.map((subnet) => {
    const f = familyOf(subnet);
    const ip = nftFamily(f);
    const keep = [...s.clusterNetworks[f].map(nftCidr), f === 4 ? '224.0.0.0/4' : 'ff00::/8'];
    return `${ip} saddr ${nftCidr(subnet)} ${ip} daddr != { ${keep.join(', ')} } masquerade`;
  });
  return {
    family: 'inet',
    table: CNI_MASQ_TABLE,
    name: cniMasqChainName(s.key),
    type: 'type nat hook postrouting priority srcnat; policy accept;',
    rules,
  };
}
