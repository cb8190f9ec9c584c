/**
 * nftables, through the `nft` command: weft's rules are whole tables or chains replaced in one `nft -f`
 * transaction, which is how nftables is meant to be driven (atomic, no half-applied rule sets). The
 * child_process module is loaded on first use: the CNI plugin's ordinary ADD never runs nft.
 *
 * This file never waits for nft (the daemon: while nft runs, DNS, lease keep-alives and the API go on).
 * nft-sync.ts waits, for the CNI plugin and the CLI, short-lived processes with nothing else to do; it is
 * not exported from mod.ts, so the daemon cannot load it (pkg/boundaries.test.ts).
 */
import { WeftError } from '../errors/mod.ts';

export interface NftResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Long enough for a ruleset of thousands of elements on a loaded host; nft never waits for anything else. */
export const NFT_TIMEOUT_MS = 30_000;

export const cannotRun = (e: Error) => new WeftError('WEFT_KERNEL', `cannot run nft: ${e.message} (install nftables)`, { cause: e });

export function nftAsync(args: readonly string[], input?: string): Promise<NftResult> {
  return new Promise((resolve, reject) => {
    const child = process
      .getBuiltinModule('node:child_process')
      .spawn('nft', args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: NFT_TIMEOUT_MS });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(cannotRun(e)));
    child.on('close', (code) =>
      resolve({ ok: code === 0, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8').trim() }),
    );
    // nft may exit before reading a script it refuses; its complaint is on stderr, not in an EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Applies an nft script as one transaction; rejects with nft's own complaint when it refuses. */
export async function applyNftAsync(script: string, what: string): Promise<void> {
  const r = await nftAsync(['-f', '-'], script);
  if (!r.ok) throw refused(what, r);
}

export const refused = (what: string, r: NftResult) => new WeftError('WEFT_KERNEL', `nft refused ${what}: ${r.stderr}`);
