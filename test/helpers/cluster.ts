/**
 * A simulated cluster for controller tests: an underlay, a real etcd, N hosts each running `weft daemon`
 * against a per-test etcd prefix, and pods attached by the real CNI plugin reading each daemon's lease file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sim, SimDaemon, SimEtcd, SimHost } from '../../pkg/sim/mod.ts';
import { json, runPlugin } from './cni.ts';
import { testDaemon } from './daemon.ts';
import { startEtcd } from './etcd.ts';
import { defer, makeNetns, type TestNetns } from './netns.ts';
import { RUN_ID } from './run-id.ts';
import { makeSim } from './topology.ts';

export const DEFAULT_CONFIG = { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } };

export interface Pod {
  readonly ns: TestNetns;
  readonly ip: string;
  readonly host: number;
}

export class TestCluster {
  readonly sim: Sim;
  readonly etcd: SimEtcd;
  readonly dir: string;
  readonly prefix: string;
  readonly hosts: SimHost[] = [];
  readonly daemons: SimDaemon[] = [];

  private constructor(sim: Sim, etcd: SimEtcd, dir: string, tag: string) {
    this.sim = sim;
    this.etcd = etcd;
    this.dir = dir;
    this.prefix = `/weft-test/${RUN_ID}/${tag}/network`;
  }

  static async create(tag: string, opts: { config?: object | string; hosts?: number } = {}): Promise<TestCluster> {
    const sim = makeSim(tag);
    const etcd = await startEtcd(sim);
    const dir = mkdtempSync(join(tmpdir(), `weft-t-${RUN_ID}-${tag}-`));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const c = new TestCluster(sim, etcd, dir, tag);
    if (opts.config !== null) await c.putConfig(opts.config ?? DEFAULT_CONFIG);
    for (let i = 1; i <= (opts.hosts ?? 0); i++) await c.addHost(i);
    return c;
  }

  async putConfig(config: object | string): Promise<void> {
    await this.etcd.client.put(`${this.prefix}/config`).value(typeof config === 'string' ? config : JSON.stringify(config)).exec();
  }

  /** Adds host n with a daemon (not started). */
  async addHost(n: number, daemonArgs: readonly string[] = []): Promise<SimDaemon> {
    const host = await this.sim.addHost(n);
    const d = testDaemon(host, join(this.dir, `h${n}`), [`--etcd-endpoints=${this.etcd.endpoint}`, `--etcd-prefix=${this.prefix}`, '--resync-period=2', ...daemonArgs]);
    this.hosts[n - 1] = host;
    this.daemons[n - 1] = d;
    return d;
  }

  daemon(n: number): SimDaemon {
    return this.daemons[n - 1]!;
  }

  async startAll(): Promise<void> {
    for (const d of this.daemons) d?.start();
    await Promise.all(this.daemons.filter(Boolean).map((d) => d.ready()));
  }

  /** A pod on host n: a namespace the "runtime" made, wired by the CNI plugin with the daemon's lease. */
  pod(n: number, name: string): Pod {
    const d = this.daemon(n);
    const ns = makeNetns(`h${n}-${name}`);
    const conf = { cniVersion: '1.0.0', name: 'cbr0', type: 'weft', subnetFile: d.subnetFile, dataDir: join(d.dir, 'cni') };
    const r = runPlugin({
      hostNetns: d.host.path,
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `${name}-${RUN_ID}`, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
      stdin: conf,
    });
    if (r.code !== 0) throw new Error(`CNI ADD for ${name} on host ${n} failed: ${r.stdout}${r.stderr}`);
    const ip = json<{ ips: Array<{ address: string }> }>(r).ips[0]!.address.split('/')[0]!;
    return { ns, ip, host: n };
  }
}
