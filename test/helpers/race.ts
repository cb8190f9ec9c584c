/**
 * One thing done on many simulated hosts at the same moment (issue 24). weftOn (weft-cli.ts) runs the CLI with
 * spawnSync, which blocks the test's event loop: six of them under `Promise.all` would still run one after
 * another. weftAsync runs the same command line as a child process the loop does not wait on, so the hosts'
 * commands overlap for real. It lives apart from weft-cli.ts, which other suites own.
 */
import { spawn } from 'node:child_process';
import { withBinds, type SimCluster } from '../../pkg/sim/mod.ts';
import type { CliRun } from './weft-cli.ts';

/** `weft ARGS` on host n against its daemon, as weftOn runs it, without blocking; never rejects. */
export function weftAsync(c: SimCluster, n: number, args: readonly string[], cniPath = '/usr/lib/cni'): Promise<CliRun> {
  const d = c.daemon(n);
  const child = spawn('nsenter', [`--net=${d.host.path}`, ...withBinds(d.binds), c.opts.bin, ...args], {
    env: { PATH: process.env.PATH, WEFT_SOCKET: d.socket, CNI_PATH: cniPath },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ ok: false, code: null, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (code) => resolve({ ok: code === 0, code, stdout, stderr }));
  });
}

/** `weft ARGS` on every listed host at once; the runs in host order. */
export function weftOnEach(c: SimCluster, hosts: readonly number[], args: (n: number) => readonly string[]): Promise<CliRun[]> {
  return Promise.all(hosts.map((n) => weftAsync(c, n, args(n))));
}
