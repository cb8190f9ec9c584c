/**
 * The daemon's status document (pkg/contract/status.ts): served on its socket, and written to
 * `<run-dir>/status.json` when it changes (at most every resync period) so `weft doctor` has the desired
 * state even when the daemon does not answer.
 */
import { join } from 'node:path';
import type { NetworkAgent } from '../agent/mod.ts';
import type { DaemonStatus, DockerStatus, NetworkStatus, StoreStatus } from '../contract/status.ts';
import { writeFileAtomic } from '../files/mod.ts';
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

/**
 * The file's mode: root's only (issue 25). The document holds etcd's endpoints, every network's ranges and
 * peers (their underlay addresses and VTEP MACs), the firewall's rules and the conflists: a map of the
 * cluster, not for other users of the host. `weft doctor` reads it as root.
 */
export const STATUS_FILE_MODE = 0o600;

/** The large parts of the verbose document: every peer, the desired kernel state. */
const BULKY = new Set(['list', 'desired']);
const ids = new WeakMap<object, number>();
let nextId = 0;
const idOf = (o: object): string => {
  if (!ids.has(o)) ids.set(o, ++nextId);
  return `#${ids.get(o)}`;
};

/** The fields that change with the clock alone: times, durations, latencies. */
const CLOCKS = new Set(['at', 'uptimeSeconds', 'ms', 'lastOkAt', 'lastErrorAt', 'latencyMs']);

/**
 * Writes the verbose document if anything but its clocks changed; always the first time in this process, so
 * a file left by an older weft (0644) is replaced by one of STATUS_FILE_MODE even if it says the same. With
 * 5,000 peers the document is a few MiB: rewriting it every resync for a new timestamp was a good part of the
 * daemon's CPU at rest (issue 28).
 */
export function writeStatusFile(path: string, doc: DaemonStatus): void {
  const { at, uptimeSeconds } = doc;
  // An agent hands out the same peer list and desired state while their inputs are the same: compared by
  // identity, so the comparison costs a few KiB of text, not the whole document.
  const now = JSON.stringify(doc, (k, v: unknown) =>
    CLOCKS.has(k) ? undefined : BULKY.has(k) && typeof v === 'object' && v ? idOf(v) : v,
  );
  const before = written.get(path);
  if (before !== undefined && now === before) return;
  writeFileAtomic(path, `${JSON.stringify({ ...doc, at, uptimeSeconds }, null, 1)}\n`, STATUS_FILE_MODE);
  written.set(path, now);
}
