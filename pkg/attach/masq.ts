/**
 * `ipMasq`: containers reach addresses outside the cluster network through the host's address. One rule per
 * network per host (not per container, unlike the reference bridge plugin's per-container chains): in table
 * `inet weft-cni`, a base chain `masq_<network>` on the NAT postrouting hook with
 *
 *   ip saddr <host subnet> ip daddr != { <cluster networks>, 224.0.0.0/4 } masquerade
 *
 * so traffic between pods (on any host) keeps its source address. Applied with one `nft -f -` transaction
 * (declare, flush, add: idempotent), only when this boot has not applied exactly this rule yet (a marker in
 * the network's state directory), so an ordinary ADD spawns no process.
 */
import { join } from 'node:path';
import { listDir, readIfExists, writeFileAtomic } from '../files/mod.ts';
import { applyNft, nft } from '../firewall/nft.ts';
import { formatPrefix, type Prefix } from '../netaddr/cidr.ts';

export const MASQ_TABLE = 'weft-cni';

export interface MasqSpec {
  readonly key: string;
  readonly pools: ReadonlyArray<{ readonly family: 4 | 6; readonly subnet: Prefix }>;
  readonly clusterNetworks: Readonly<Record<4 | 6, readonly string[]>>;
}

export const masqChain = (key: string): string => `masq_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;

export function masqRules(spec: MasqSpec): string[] {
  return spec.pools.map((p) => {
    const ip = p.family === 4 ? 'ip' : 'ip6';
    const keep = [...spec.clusterNetworks[p.family], p.family === 4 ? '224.0.0.0/4' : 'ff00::/8'];
    return `${ip} saddr ${formatPrefix(p.subnet)} ${ip} daddr != { ${keep.join(', ')} } masquerade`;
  });
}

export function masqScript(spec: MasqSpec): string {
  const chain = masqChain(spec.key);
  return [
    `table inet ${MASQ_TABLE} {`,
    `  chain ${chain} { type nat hook postrouting priority srcnat; policy accept; }`,
    `}`,
    `flush chain inet ${MASQ_TABLE} ${chain}`,
    ...masqRules(spec).map((r) => `add rule inet ${MASQ_TABLE} ${chain} ${r}`),
    '',
  ].join('\n');
}

const MARKER = 'masq.applied';

export function ensureMasquerade(spec: MasqSpec, stateDir: string, bootId: string): void {
  const script = masqScript(spec);
  const marker = join(stateDir, MARKER);
  const want = `${bootId}\n${script}`;
  if (readIfExists(marker) === want) return;
  applyNft(script, `the masquerade rule for ${spec.key}`);
  writeFileAtomic(marker, want, 0o600);
}

/** Whether the kernel holds the network's masquerade rules now (CHECK). */
export function masqueradePresent(spec: MasqSpec): boolean {
  const r = nft(['list', 'chain', 'inet', MASQ_TABLE, masqChain(spec.key)]);
  if (!r.ok) return false;
  const text = r.stdout.replace(/\s+/g, ' ');
  return spec.pools.every((p) => text.includes(`saddr ${formatPrefix(p.subnet)}`)) && text.includes('masquerade');
}

/**
 * The masquerade chains the plugin applied in this boot, one per network under `dataDir`, with the script
 * that makes each: the daemon keeps them in place (a firewall reload removes them, and the plugin applies a
 * chain only once per boot).
 */
export function appliedMasquerades(dataDir: string, bootId: string): Array<{ readonly chain: string; readonly script: string }> {
  return listDir(dataDir).flatMap((key) => {
    const text = readIfExists(join(dataDir, key, MARKER));
    if (!text?.startsWith(`${bootId}\n`)) return [];
    return [{ chain: masqChain(key), script: text.slice(bootId.length + 1) }];
  });
}
