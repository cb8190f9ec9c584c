/**
 * The weft CLI as an operator runs it on one simulated host: the cluster's weft executable, inside the host's
 * namespace, talking to that host's daemon.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { withBinds, type SimCluster } from '../../pkg/sim/mod.ts';
import { defer } from './netns.ts';

export interface CliRun {
  readonly ok: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `cniPath`: where connect/disconnect find plugins (Debian's only, by default: weft then runs itself). */
export function weftOn(c: SimCluster, n: number, args: readonly string[], cniPath = '/usr/lib/cni', input = ''): CliRun {
  const d = c.daemon(n);
  // With the daemon's binds (its boot ID after a simulated reboot): the plugin the CLI runs sees the same host.
  const r = spawnSync('nsenter', [`--net=${d.host.path}`, ...withBinds(d.binds), c.opts.bin, ...args], {
    encoding: 'utf8',
    input,
    env: { PATH: process.env.PATH, WEFT_SOCKET: d.socket, CNI_PATH: cniPath },
    timeout: 60_000,
  });
  return { ok: r.status === 0, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like weftOn, failing the test with weft's own message when the command fails. */
export function weftOk(c: SimCluster, n: number, args: readonly string[], cniPath?: string): string {
  const r = weftOn(c, n, args, cniPath);
  if (!r.ok) throw new Error(`weft ${args.join(' ')} on h${n} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Writes a namespace's resolv.conf from a CNI result's DNS settings, as a runtime does; `ip netns exec`
 * bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf.
 */
export function writeResolvConf(nsName: string, dns: { nameservers?: string[]; search?: string[] }): void {
  const dir = `/etc/netns/${nsName}`;
  mkdirSync(dir, { recursive: true });
  defer(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    `${dir}/resolv.conf`,
    [
      ...(dns.nameservers ?? []).map((s) => `nameserver ${s}`),
      ...(dns.search?.length ? [`search ${dns.search.join(' ')}`] : []),
      'options timeout:1 attempts:2',
      '',
    ].join('\n'),
  );
}
