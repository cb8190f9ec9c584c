/**
 * nftables, through the `nft` command: weft's rules are whole tables or chains replaced in one `nft -f`
 * transaction, which is how nftables is meant to be driven (atomic, no half-applied rule sets). The
 * child_process module is loaded on first use: the CNI plugin's ordinary ADD never runs nft.
 */
import { WeftError } from '../errors/mod.ts';

export interface NftResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export function nft(args: readonly string[], input?: string): NftResult {
  const r = process
    .getBuiltinModule('node:child_process')
    .spawnSync('nft', args, { encoding: 'utf8', ...(input !== undefined && { input }) });
  if (r.error) throw new WeftError('WEFT_KERNEL', `cannot run nft: ${r.error.message} (install nftables)`, { cause: r.error });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Applies an nft script as one transaction; throws with nft's own complaint when it refuses. */
export function applyNft(script: string, what: string): void {
  const r = nft(['-f', '-'], script);
  if (!r.ok) throw new WeftError('WEFT_KERNEL', `nft refused ${what}: ${r.stderr}`);
}
