/**
 * The daemon's status document (pkg/contract/status.ts): served on its socket, and written to
 * `<run-dir>/status.json` when it changes (at most every resync period) so `weft doctor` has the desired
 * state even when the daemon does not answer.
 */
import { join } from 'node:path';
import type { NetworkAgent } from '../agent/mod.ts';
import type { DaemonStatus, DockerStatus, NetworkStatus, StoreStatus } from '../contract/status.ts';
import { readIfExists, writeFileAtomic } from '../files/mod.ts';
import type { FirewallKeeper } from '../firewall/mod.ts';
import { VERSION } from '../version.ts';

export interface StatusSources {
  readonly node: string;
  readonly startedAt: Date;
  readonly store: () => StoreStatus;
  readonly cni: DaemonStatus['cni'];
  readonly firewall: FirewallKeeper;
  readonly defaultAgent: NetworkAgent;
  /** The named networks' reports (with their conflists), when the daemon runs them. */
  readonly named: (verbose: boolean) => NetworkStatus[];
  /** The Docker plugin's status, once it runs. */
  readonly docker?: () => DockerStatus | undefined;
}

export function daemonStatus(s: StatusSources, verbose: boolean): DaemonStatus {
  const now = new Date();
  const dflt = s.defaultAgent.report(verbose);
  // A host without the flannel default network shows only the networks it serves.
  const networks = [...(s.defaultAgent.status().configured ? [dflt] : []), ...s.named(verbose)];
  const docker = s.docker?.();
  return {
    version: VERSION,
    node: s.node,
    startedAt: s.startedAt.toISOString(),
    uptimeSeconds: Math.round((now.getTime() - s.startedAt.getTime()) / 1000),
    at: now.toISOString(),
    store: s.store(),
    cni: s.cni,
    firewall: s.firewall.printed(),
    networks,
    ...(docker && { docker }),
  };
}

export const statusFile = (runDir: string): string => join(runDir, 'status.json');

/** What each status file last said, bar its clock: compared in memory rather than read back and parsed. */
const written = new Map<string, string>();

/** Writes the verbose document if anything but its clock changed. */
export function writeStatusFile(path: string, doc: DaemonStatus): void {
  const { at, uptimeSeconds, ...stable } = doc;
  const now = JSON.stringify(stable);
  if (now === (written.get(path) ?? stableText(readIfExists(path)))) return;
  writeFileAtomic(path, `${JSON.stringify({ ...doc, at, uptimeSeconds }, null, 1)}\n`, 0o644);
  written.set(path, now);
}

function stableText(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    const { at: _a, uptimeSeconds: _u, ...was } = JSON.parse(file) as DaemonStatus;
    return JSON.stringify(was);
  } catch {
    return undefined; // unreadable: written anew
  }
}
