/** Running the independent tools tests compare against (iproute2, ping...). Test code only. */
import { execFileSync, spawnSync } from 'node:child_process';

export function run(cmd: string, args: readonly string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(opts.input !== undefined && { input: opts.input }) });
}

/** Runs a command and reports success instead of throwing. */
export function tryRun(cmd: string, args: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** `ip -j [-d] -n NS ...` parsed. */
export function ipJson<T = Record<string, unknown>[]>(netns: string, args: readonly string[], details = false): T {
  const out = run('ip', ['-j', ...(details ? ['-d'] : []), '-n', netns, ...args]).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

/** `bridge -j -n NS ...` parsed. */
export function bridgeJson<T = Record<string, unknown>[]>(netns: string, args: readonly string[]): T {
  const out = run('bridge', ['-j', '-n', netns, ...args]).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

export function inNetns(netns: string, cmd: string, args: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
  return tryRun('ip', ['netns', 'exec', netns, cmd, ...args]);
}

/** One ping from inside `netns`; true when a reply came back. */
export function ping(netns: string, target: string, opts: { count?: number; timeoutSec?: number } = {}): boolean {
  return inNetns(netns, 'ping', ['-c', String(opts.count ?? 1), '-W', String(opts.timeoutSec ?? 2), '-q', target]).ok;
}
