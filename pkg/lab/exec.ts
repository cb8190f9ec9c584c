/**
 * Running a check inside a lab container: its network namespace, and, for lookups by name, its resolv.conf
 * bind-mounted over /etc/resolv.conf in a private mount namespace (what `ip netns exec` does with
 * /etc/netns/, without writing anything outside the lab directory).
 */
import { spawn, spawnSync } from 'node:child_process';

export interface Where {
  readonly netns: string;
  readonly resolvConf?: string;
}

export interface Ran {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function argv(w: Where, cmd: readonly string[]): [string, string[]] {
  if (!w.resolvConf) return ['nsenter', [`--net=${w.netns}`, ...cmd]];
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/resolv.conf && n="$1" && shift && exec nsenter --net="$n" "$@"',
      w.resolvConf,
      w.netns,
      ...cmd,
    ],
  ];
}

export function runIn(w: Where, cmd: readonly string[], timeoutMs = 20_000): Ran {
  const [c, a] = argv(w, cmd);
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const pingFrom = (w: Where, target: string, timeoutSec = 2): boolean =>
  runIn(w, ['ping', '-c', '1', '-W', String(timeoutSec), '-q', target]).ok;

/** The address `name` resolves to in `w` (glibc, through its resolv.conf), or undefined; with 6, its IPv6 one (AAAA). */
export function lookup(w: Where, name: string, family?: 6): string | undefined {
  const r = runIn(w, family === 6 ? ['getent', 'ahostsv6', name] : ['getent', 'hosts', name]);
  return r.ok ? r.stdout.split(/\s+/)[0] : undefined;
}

/** One TCP exchange: a busybox nc server in `server` sends a line; the client in `client` connects to `target`. */
export async function tcpExchange(server: Where, client: Where, target: string, port = 7070): Promise<boolean> {
  const msg = `weft-lab-${Math.random().toString(36).slice(2, 8)}`;
  const srv = spawn('nsenter', [`--net=${server.netns}`, 'busybox', 'nc', '-l', '-p', String(port)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  srv.stdin.end(`${msg}\n`);
  try {
    for (let i = 0; i < 20; i++) {
      const r = runIn(client, ['busybox', 'nc', '-w', '2', target, String(port)], 5000);
      if (r.stdout.includes(msg)) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  } finally {
    srv.kill('SIGKILL');
  }
}
