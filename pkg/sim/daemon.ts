/**
 * `weft daemon` in a simulated host, as a host's init system would run it: lease file, state directory and
 * log under its own directory, health endpoints on 127.0.0.1 inside the host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSubnetEnv, type SubnetEnv } from '../../flannel-compat/subnet-env.ts';
import type { SimHost } from './topology.ts';
import { waitFor } from './wait.ts';

export const HEALTH_PORT = 8471;

/**
 * GET on a simulated host's daemon health server, from inside the host (busybox nc: unlike wget, it shows
 * the body of a 503 too, where /readyz says why).
 */
export function healthGet(hostPath: string, path: string, timeoutMs?: number): { ok: boolean; body: string } {
  const r = spawnSync('nsenter', [`--net=${hostPath}`, 'busybox', 'nc', '-w', '5', '127.0.0.1', String(HEALTH_PORT)], {
    input: `GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`,
    encoding: 'utf8',
    ...(timeoutMs !== undefined && { timeout: timeoutMs }),
  });
  const text = r.stdout ?? '';
  const split = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  return { ok: r.status === 0 && status !== undefined && status.startsWith('2'), body: split < 0 ? '' : text.slice(split + 4) };
}

/**
 * A command prefix that runs what follows with `binds` mounted in a private mount namespace; empty when there
 * are none. unshare and sh exec what follows (nothing forks), so the pid is the command's.
 */
export function withBinds(binds: ReadonlyArray<readonly [string, string]>): string[] {
  if (binds.length === 0) return [];
  const mounts = binds.map((_, i) => `mount --bind "\${${2 * i}}" "\${${2 * i + 1}}"`).join(' && ');
  const [first, ...rest] = binds.flat();
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    `${mounts} && shift ${2 * binds.length - 1} && exec "$@"`,
    first!,
    ...rest,
  ];
}

export class SimDaemon {
  readonly host: SimHost;
  readonly dir: string;
  readonly bin: string;
  readonly args: readonly string[];
  #proc: ChildProcess | undefined;

  readonly #detach: boolean;
  /** Files bind-mounted over the host's own in a mount namespace of the daemon's (an /etc/hosts, a boot ID). */
  binds: ReadonlyArray<readonly [string, string]>;
  /** Variables added to the daemon's environment (NOTIFY_SOCKET, say). */
  readonly env: Readonly<Record<string, string>>;

  /** `detach`: the daemon outlives this process (the lab); otherwise it is this process's child. */
  constructor(
    host: SimHost,
    opts: {
      dir: string;
      bin: string;
      args: readonly string[];
      detach?: boolean;
      binds?: ReadonlyArray<readonly [string, string]>;
      env?: Readonly<Record<string, string>>;
    },
  ) {
    this.host = host;
    this.dir = opts.dir;
    this.bin = opts.bin;
    this.args = opts.args;
    this.#detach = opts.detach ?? false;
    this.binds = opts.binds ?? [];
    this.env = opts.env ?? {};
    mkdirSync(this.dir, { recursive: true });
  }

  get subnetFile(): string {
    return join(this.dir, 'subnet.env');
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  /** Where the daemon writes named networks' conflists (a runtime's /etc/cni/net.d). */
  get cniConfDir(): string {
    return join(this.dir, 'net.d');
  }

  get cniDataDir(): string {
    return join(this.dir, 'cni');
  }

  /** The daemon's API socket (the CLI's --socket). */
  get socket(): string {
    return join(this.dir, 'run', 'weft.sock');
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** "running", "exited with N" / "killed by SIG", or "not started". */
  get status(): string {
    const p = this.#proc;
    if (!p) return 'not started';
    if (p.exitCode !== null) return `exited with ${p.exitCode}`;
    if (p.signalCode !== null) return `killed by ${p.signalCode}`;
    return 'running';
  }

  start(): void {
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    this.#proc = spawn(
      'nsenter',
      [
        `--net=${this.host.path}`,
        ...withBinds(this.binds),
        this.bin,
        'daemon',
        '--iface',
        'eth0',
        `--subnet-file=${this.subnetFile}`,
        `--state-dir=${this.stateDir}`,
        `--run-dir=${join(this.dir, 'run')}`,
        `--node-name=h${this.host.n}`,
        `--cni-conf-dir=${this.cniConfDir}`,
        `--cni-data-dir=${this.cniDataDir}`,
        '--healthz-ip=127.0.0.1',
        `--healthz-port=${HEALTH_PORT}`,
        ...this.args,
      ],
      { stdio: ['ignore', log, log], detached: this.#detach, env: { ...process.env, ...this.env } },
    );
    if (this.#detach) this.#proc.unref();
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    const p = this.#proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    const code = await done;
    this.#proc = undefined;
    return code;
  }

  kill(): void {
    this.#proc?.kill('SIGCONT');
    this.#proc?.kill('SIGKILL');
    this.#proc = undefined;
  }

  /** SIGSTOP: the daemon holds its sockets and answers nothing (a hung process, a host that froze). */
  freeze(): void {
    this.#proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#proc?.kill('SIGCONT');
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'daemon.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** GET on the daemon's health server from inside its host (busybox wget). */
  http(path: string): { ok: boolean; body: string } {
    return healthGet(this.host.path, path);
  }

  async ready(ms = 20_000): Promise<void> {
    try {
      await waitFor(
        `weft daemon on ${this.host.name} to be ready`,
        () => this.http('/readyz').ok || (this.#proc?.exitCode != null ? Promise.reject(new Error('it exited')) : false),
        ms,
        100,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.log().split('\n').slice(-15).join('\n')}`);
    }
  }

  subnetEnv(): SubnetEnv {
    const r = parseSubnetEnv(readFileSync(this.subnetFile, 'utf8'));
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  }
}
