/**
 * `weft daemon` (the built dist/weft) in a simulated host, as a host's init system would run it, with its
 * lease file, state directory and log under a temporary directory. Killed after the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSubnetEnv, type SubnetEnv } from '../../flannel-compat/subnet-env.ts';
import type { SimHost } from '../../pkg/sim/mod.ts';
import { WEFT_BIN } from './cni.ts';
import { defer } from './netns.ts';

export const HEALTH_PORT = 8471;

export class TestDaemon {
  readonly host: SimHost;
  readonly dir: string;
  readonly args: readonly string[];
  #proc: ChildProcess | undefined;

  constructor(host: SimHost, dir: string, args: readonly string[]) {
    this.host = host;
    this.dir = dir;
    this.args = args;
    mkdirSync(dir, { recursive: true });
    defer(() => this.kill());
  }

  get subnetFile(): string {
    return join(this.dir, 'subnet.env');
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  start(): void {
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    this.#proc = spawn('nsenter', [
      `--net=${this.host.path}`, WEFT_BIN, 'daemon', '--iface', 'eth0', `--subnet-file=${this.subnetFile}`, `--state-dir=${this.stateDir}`,
      `--healthz-ip=127.0.0.1`, `--healthz-port=${HEALTH_PORT}`, ...this.args,
    ], { stdio: ['ignore', log, log] });
  }

  /** SIGTERM and wait for a clean exit. */
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
    this.#proc?.kill('SIGKILL');
    this.#proc = undefined;
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'daemon.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** GET on the daemon's health server, from inside its host (busybox wget). */
  http(path: string): { ok: boolean; body: string } {
    const r = spawnSync('nsenter', [`--net=${this.host.path}`, 'busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:${HEALTH_PORT}${path}`], { encoding: 'utf8' });
    return { ok: r.status === 0, body: r.stdout };
  }

  /** Waits until /readyz says ready; fails with the daemon's log if it does not within `ms`. */
  async ready(ms = 20_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.http('/readyz').ok) return;
      if (this.#proc && this.#proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`weft daemon on ${this.host.name} is not ready:\n${this.log().split('\n').slice(-15).join('\n')}`);
  }

  subnetEnv(): SubnetEnv {
    const r = parseSubnetEnv(readFileSync(this.subnetFile, 'utf8'));
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  }
}

/** Polls `check` until it returns a value (not undefined/false) or `ms` pass; the last failure explains. */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
