/**
 * A real etcd (Debian's etcd-server) for a test: in its own namespace on the simulated underlay at
 * 192.0.2.250:2379, where the daemons reach it over the overlay's underlay like real hosts, and on a Unix
 * socket in a temporary directory, where the test process (which lives outside the simulated network) reaches
 * it. Stopped and its data removed after the test; it can also be killed and restarted from its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { Sim, SimHost } from '../../pkg/sim/mod.ts';
import { defer } from './netns.ts';
import { RUN_ID } from './run-id.ts';

export const ETCD_HOST = 250;

export class TestEtcd {
  readonly host: SimHost;
  readonly dir: string;
  readonly endpoint = `http://192.0.2.${ETCD_HOST}:2379`;
  readonly client: Etcd3;
  #proc: ChildProcess | undefined;

  private constructor(host: SimHost, dir: string) {
    this.host = host;
    this.dir = dir;
    this.client = new Etcd3({ hosts: [`unix:${join(dir, 'etcd.sock:1')}`], defaultCallOptions: (c) => (c.isStream ? {} : { deadline: Date.now() + 5000 }) });
  }

  static async start(sim: Sim): Promise<TestEtcd> {
    const host = await sim.addHost(ETCD_HOST);
    const dir = mkdtempSync(join(tmpdir(), `weft-t-${RUN_ID}-etcd-`));
    const e = new TestEtcd(host, dir);
    defer(() => {
      e.client.close();
      e.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await e.restart();
    return e;
  }

  /** (Re)starts etcd from its data directory and waits until it answers. */
  async restart(): Promise<void> {
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    this.#proc = spawn('nsenter', [
      `--net=${this.host.path}`, 'etcd', '--name', 'weft-test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', `${this.endpoint},unix://etcd.sock:1`, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'weft-test=http://127.0.0.1:2380', '--log-level', 'warn',
    ], { cwd: this.dir, stdio: ['ignore', log, log] });
    for (let i = 0; i < 100; i++) {
      if (existsSync(join(this.dir, 'etcd.sock:1'))) {
        try {
          await this.client.get('/weft-test/ping').string();
          return;
        } catch {
          // not serving yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not start; see ${join(this.dir, 'etcd.log')}`);
  }

  kill(): void {
    this.#proc?.kill('SIGKILL');
    this.#proc = undefined;
    rmSync(join(this.dir, 'etcd.sock:1'), { force: true });
  }

  async compact(): Promise<string> {
    const rev = (await this.client.get('/weft-test/ping').exec()).header.revision;
    await this.client.kv.compact({ revision: rev, physical: true });
    return String(rev);
  }
}
