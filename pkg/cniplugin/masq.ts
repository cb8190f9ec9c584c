/**
 * `ipMasq` in the plugin: the network's masquerade chain (pkg/firewall's cniMasqChain), applied with one
 * `nft -f -` transaction only when this boot has not applied exactly this chain yet (the marker), so an
 * ordinary ADD spawns no process; and CHECK's test that the chain is still there.
 */
import { markMasquerade, masqueradeMarked } from '../contract/mod.ts';
import { chainPresent, chainScript, cniMasqChain, type MasqSpec } from '../firewall/mod.ts';
import { applyNft, nft } from '../firewall/nft-sync.ts';
import { formatPrefix } from '../netaddr/cidr.ts';
import { networkKey } from '../networks/names.ts';
import type { SubnetFile } from '../attach/mod.ts';

/** What this host masquerades for the network, from its lease. */
export function masqSpecOf(network: string, lease: Pick<SubnetFile, 'pools' | 'clusterNetworks'>): MasqSpec {
  return { key: networkKey(network), subnets: lease.pools.map((p) => formatPrefix(p.subnet)), clusterNetworks: lease.clusterNetworks };
}

export function ensureMasquerade(spec: MasqSpec, stateDir: string, bootId: string): void {
  const script = chainScript(cniMasqChain(spec));
  if (masqueradeMarked(stateDir, bootId, script)) return;
  applyNft(script, `the masquerade rule for ${spec.key}`);
  markMasquerade(stateDir, bootId, script);
}

/** Whether the kernel holds the network's masquerade chain now (CHECK). */
export function masqueradePresent(spec: MasqSpec): boolean {
  const c = cniMasqChain(spec);
  const r = nft(['list', 'table', c.family, c.table]);
  return r.ok && chainPresent(r.stdout, c);
}
