/** Running the independent tools tests compare against (iproute2, ping...). Test code only. */
import { execFileSync, spawnSync } from 'node:child_process';

export function run(cmd: string, args: readonly string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.input !== undefined && { input: opts.input }),
  });
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

/**
 * One TCP exchange between two namespaces with busybox nc: a server on `port` in `serverNs` sends a line, the
 * client in `clientNs` connects to `ip` and must receive it.
 */
export async function tcpCheck(serverNs: string, clientNs: string, ip: string, port = 7070): Promise<boolean> {
  const { spawn } = await import('node:child_process');
  const msg = `weft-tcp-${Math.random().toString(36).slice(2, 8)}`;
  const server = spawn('ip', ['netns', 'exec', serverNs, 'busybox', 'nc', '-l', '-p', String(port)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  server.stdin.end(`${msg}\n`);
  try {
    for (let i = 0; i < 20; i++) {
      const r = inNetns(clientNs, 'busybox', ['nc', '-w', '2', ip, String(port)]);
      if (r.stdout.trim() === msg) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  } finally {
    server.kill('SIGKILL');
  }
}
