/**
 * nft for short-lived processes (the CNI plugin's ipMasq rule, `weft uninstall`, `weft doctor`): they wait for
 * the command, having nothing else to do. The daemon uses nft.ts, which never waits; this file is not
 * exported from mod.ts, so the daemon cannot load it (pkg/boundaries.test.ts).
 */
import { cannotRun, NFT_TIMEOUT_MS, refused, type NftResult } from './nft.ts';

export function nft(args: readonly string[], input?: string): NftResult {
  const r = process
    .getBuiltinModule('node:child_process')
    .spawnSync('nft', args, { encoding: 'utf8', timeout: NFT_TIMEOUT_MS, ...(input !== undefined && { input }) });
  if (r.error) throw cannotRun(r.error);
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Applies an nft script as one transaction; throws with nft's own complaint when it refuses. */
export function applyNft(script: string, what: string): void {
  const r = nft(['-f', '-'], script);
  if (!r.ok) throw refused(what, r);
}
