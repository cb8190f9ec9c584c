/**
 * `--ip-masq` and forwarding, with flanneld's rules (its nftables mode, pkg/trafficmngr/nftables), one table
 * per network. C is the cluster network, P this host's subnet:
 *
 *   postrouting (nat):  mark 0x4000 -> return        (kube-proxy's packets: never masquerade twice)
 *                       P -> C return; C -> P return; !C -> P return
 *                       C -> !224.0.0.0/4 masquerade; !C -> C masquerade
 *   forward (filter):   C -> accept; -> C accept     (with --iptables-forward-rules, flannel's default)
 *
 * Traffic between pods keeps its addresses everywhere; pods reach the outside through the host's address.
 */
import type { NftTable } from './table.ts';

export interface MasqSpec {
  readonly key: string;
  readonly clusterNetwork: string;
  readonly subnet: string;
  readonly masquerade: boolean;
  readonly forward: boolean;
  readonly fullyRandom: boolean;
}

export const masqTableName = (key: string): string => `weft_${key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '')}`;

/** The network's table, or undefined when it neither masquerades nor accepts forwarding. */
export function masqueradeTable(s: MasqSpec): NftTable | undefined {
  const C = s.clusterNetwork;
  const P = s.subnet;
  const masq = `masquerade${s.fullyRandom ? ' fully-random' : ''}`;
  const body: string[] = [];
  if (s.masquerade) {
    body.push(
      'chain postrouting {',
      '  type nat hook postrouting priority srcnat; policy accept;',
      '  meta mark & 0x4000 == 0x4000 return',
      `  ip saddr ${P} ip daddr ${C} return`,
      `  ip saddr ${C} ip daddr ${P} return`,
      `  ip saddr != ${C} ip daddr ${P} return`,
      `  ip saddr ${C} ip daddr != 224.0.0.0/4 ${masq}`,
      `  ip saddr != ${C} ip daddr ${C} ${masq}`,
      '}',
    );
  }
  if (s.forward) body.push('chain forward {', '  type filter hook forward priority filter; policy accept;', `  ip saddr ${C} accept`, `  ip daddr ${C} accept`, '}');
  return body.length > 0 ? { family: 'ip', name: masqTableName(s.key), body } : undefined;
}
