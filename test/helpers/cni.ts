/**
 * Drives the built plugin (dist/weft) exactly as a container runtime does: CNI_* environment, the network
 * config on stdin, the result or error parsed from stdout, the exit code. The plugin runs inside a simulated
 * host's namespace (`nsenter --net`), so the bridge and veths it makes are that host's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defer, makeNetns, type TestNetns } from './netns.ts';
import { NETNS_PREFIX } from './run-id.ts';

export const WEFT_BIN = resolve(import.meta.dirname, '../../dist/weft');

export interface PluginRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Invocation {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string | object;
  /** Run inside this namespace path (a simulated host); the caller's namespace when omitted. */
  readonly hostNetns?: string;
  readonly bin?: string;
}

function argv(inv: Invocation): [string, string[]] {
  const bin = inv.bin ?? WEFT_BIN;
  return inv.hostNetns ? ['nsenter', [`--net=${inv.hostNetns}`, bin]] : [bin, []];
}

const stdinOf = (inv: Invocation) => (typeof inv.stdin === 'string' ? inv.stdin : JSON.stringify(inv.stdin));
const envOf = (inv: Invocation) => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...inv.env });

export function runPlugin(inv: Invocation): PluginRun {
  const [cmd, args] = argv(inv);
  const r = spawnSync(cmd, args, { input: stdinOf(inv), env: envOf(inv), encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the plugin; `kill` sends SIGKILL to it (nsenter execs, so the pid is the plugin's). */
export function startPlugin(inv: Invocation): { done: Promise<PluginRun>; kill: () => void } {
  const [cmd, args] = argv(inv);
  const child = spawn(cmd, args, { env: envOf(inv), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  child.stdin.end(stdinOf(inv));
  const done = new Promise<PluginRun>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

export function json<T = Record<string, unknown>>(r: PluginRun): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`plugin stdout is not JSON (exit ${r.code}, signal ${r.signal}): ${JSON.stringify(r.stdout)}\nstderr: ${r.stderr}`);
  }
}

export interface HostLeaseSpec {
  readonly network?: string;
  readonly subnet?: string;
  readonly mtu?: number;
  readonly ipMasq?: boolean;
  readonly extra?: string;
}

/**
 * A simulated host for plugin tests: its own namespace, a subnet.env written the way the daemon would, and
 * a private state directory. `conf()` gives the plugin config pointing at both.
 */
export class CniHost {
  readonly ns: TestNetns;
  readonly dir: string;
  readonly subnetFile: string;
  readonly dataDir: string;

  constructor(tag: string, lease: HostLeaseSpec = {}) {
    this.ns = makeNetns(tag);
    this.dir = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}${tag}-`));
    defer(() => rmSync(this.dir, { recursive: true, force: true }));
    this.subnetFile = join(this.dir, 'subnet.env');
    this.dataDir = join(this.dir, 'data');
    this.writeLease(lease);
  }

  writeLease(l: HostLeaseSpec): void {
    const subnet = l.subnet ?? '10.244.1.1/24';
    writeFileSync(
      this.subnetFile,
      `FLANNEL_NETWORK=${l.network ?? '10.244.0.0/16'}\nFLANNEL_SUBNET=${subnet}\n` +
        `FLANNEL_MTU=${l.mtu ?? 1450}\nFLANNEL_IPMASQ=${l.ipMasq ?? true}\n${l.extra ?? ''}`,
    );
  }

  conf(extra: object = {}, cniVersion = '1.0.0'): Record<string, unknown> {
    return { cniVersion, name: 'cbr0', type: 'weft', subnetFile: this.subnetFile, dataDir: this.dataDir, ...extra };
  }

  run(command: string, opts: { cid?: string; netns?: string; ifname?: string; conf?: object; args?: string } = {}): PluginRun {
    return runPlugin({ hostNetns: this.ns.path, env: this.env(command, opts), stdin: opts.conf ?? this.conf() });
  }

  start(command: string, opts: { cid?: string; netns?: string; ifname?: string; conf?: object; args?: string } = {}) {
    return startPlugin({ hostNetns: this.ns.path, env: this.env(command, opts), stdin: opts.conf ?? this.conf() });
  }

  env(command: string, opts: { cid?: string; netns?: string; ifname?: string; args?: string }): Record<string, string> {
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: opts.cid ?? '',
      CNI_NETNS: opts.netns ?? '',
      CNI_IFNAME: opts.ifname ?? (command === 'STATUS' || command === 'GC' ? '' : 'eth0'),
      CNI_ARGS: opts.args ?? '',
      CNI_PATH: '/usr/lib/cni',
    };
  }
}
