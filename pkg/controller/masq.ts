/**
 * `--ip-masq` and forwarding, with flanneld's rules (its nftables mode, pkg/trafficmngr/nftables), one table
 * per network replaced atomically. C is the cluster network, P this host's subnet:
 *
 *   postrouting (nat):  mark 0x4000 -> return        (kube-proxy's packets: never masquerade twice)
 *                       P -> C return; C -> P return; !C -> P return
 *                       C -> !224.0.0.0/4 masquerade; !C -> C masquerade
 *   forward (filter):   C -> accept; -> C accept     (with --iptables-forward-rules, flannel's default)
 *
 * Traffic between pods keeps its addresses everywhere; pods reach the outside through the host's address.
 */
import { applyNft, nft } from '../firewall/nft.ts';

export interface MasqSpec {
  readonly key: string;
  readonly clusterNetwork: string;
  readonly subnet: string;
  readonly masquerade: boolean;
  readonly forward: boolean;
  readonly fullyRandom: boolean;
}

export const masqTable = (key: string): string => `weft_${key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '')}`;

export function masqScript(s: MasqSpec): string {
  const t = masqTable(s.key);
  const C = s.clusterNetwork;
  const P = s.subnet;
  const masq = `masquerade${s.fullyRandom ? ' fully-random' : ''}`;
  const chains: string[] = [];
  if (s.masquerade) {
    chains.push(
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '    meta mark & 0x4000 == 0x4000 return',
      `    ip saddr ${P} ip daddr ${C} return`,
      `    ip saddr ${C} ip daddr ${P} return`,
      `    ip saddr != ${C} ip daddr ${P} return`,
      `    ip saddr ${C} ip daddr != 224.0.0.0/4 ${masq}`,
      `    ip saddr != ${C} ip daddr ${C} ${masq}`,
      '  }',
    );
  }
  if (s.forward) {
    chains.push('  chain forward {', '    type filter hook forward priority filter; policy accept;', `    ip saddr ${C} accept`, `    ip daddr ${C} accept`, '  }');
  }
  return [`table ip ${t} {}`, `delete table ip ${t}`, ...(chains.length > 0 ? [`table ip ${t} {`, ...chains, '}'] : []), ''].join('\n');
}

/** Removes a network's table (the network was removed); nothing to do if it is not there. */
export function removeMasquerade(key: string): void {
  nft(['delete', 'table', 'ip', masqTable(key)]);
}

export function applyMasquerade(s: MasqSpec): void {
  applyNft(masqScript(s), `the rules of network ${s.key}`);
}

/** Whether the table holds exactly what `s` asks for (compared after nft's own formatting). */
export function masqueradeCurrent(s: MasqSpec): boolean {
  const r = nft(['list', 'table', 'ip', masqTable(s.key)]);
  const squash = (x: string) => x.replace(/\s+/g, ' ').trim();
  return r.ok && squash(r.stdout).includes(squash(s.masquerade ? `ip saddr ${s.clusterNetwork} ip daddr != 224.0.0.0/4` : 'chain'));
}
