/**
 * A real etcd (Debian's etcd-server) for a simulated cluster: in its own namespace on the underlay at
 * 192.0.2.250:2379, where daemons reach it like real hosts do, and on a Unix socket in its directory, where a
 * process outside the simulated network (a test, the lab's CLI) reaches it. It can be killed and restarted
 * from its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openEtcd } from '../store/mod.ts';
import type { Sim, SimHost } from './topology.ts';
import { waitFor } from './wait.ts';

export const ETCD_HOST = 250;

export class SimEtcd {
  readonly host: SimHost;
  readonly dir: string;
  readonly endpoint = `http://192.0.2.${ETCD_HOST}:2379`;
  /** For processes outside the simulated network. */
  readonly socketEndpoint: string;
  readonly client: ReturnType<typeof openEtcd>;
  #proc: ChildProcess | undefined;
  readonly #detach: boolean;

  private constructor(host: SimHost, dir: string, detach: boolean) {
    this.host = host;
    this.dir = dir;
    this.#detach = detach;
    this.socketEndpoint = `unix:${join(dir, 'etcd.sock:1')}`;
    this.client = openEtcd({ endpoints: [this.socketEndpoint] });
  }

  /** Adds the etcd host to `sim` and starts etcd with its data under `dir`; `detach`: it outlives this process (the lab). */
  static async start(sim: Sim, dir: string, opts: { detach?: boolean } = {}): Promise<SimEtcd> {
    mkdirSync(dir, { recursive: true });
    const e = new SimEtcd(await sim.addHost(ETCD_HOST), dir, opts.detach ?? false);
    await e.restart();
    return e;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  async restart(): Promise<void> {
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    this.#proc = spawn('nsenter', [
      `--net=${this.host.path}`, 'etcd', '--name', 'weft-sim', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', `${this.endpoint},unix://etcd.sock:1`, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'weft-sim=http://127.0.0.1:2380', '--log-level', 'warn', '--quota-backend-bytes', String(2 ** 31),
    ], { cwd: this.dir, stdio: ['ignore', log, log], detached: this.#detach });
    if (this.#detach) this.#proc.unref();
    await waitFor(`etcd to serve (log: ${join(this.dir, 'etcd.log')})`, async () => existsSync(join(this.dir, 'etcd.sock:1')) && (await this.client.get('/weft-sim/ping').string(), true), 10_000, 100);
  }

  kill(): void {
    this.#proc?.kill('SIGKILL');
    this.#proc = undefined;
    rmSync(join(this.dir, 'etcd.sock:1'), { force: true });
  }

  /** Stops etcd and closes the client. */
  close(): void {
    this.client.close();
    this.kill();
  }

  /** Closes the client and leaves etcd running (the lab's `up` hands it over to later commands). */
  release(): void {
    this.client.close();
    this.#proc = undefined;
  }

  /** Compacts history up to now; returns the revision. */
  async compact(): Promise<string> {
    const rev = String((await this.client.get('/weft-sim/ping').exec()).header.revision);
    await this.client.kv.compact({ revision: rev, physical: true });
    return rev;
  }
}
