/**
 * The daemon's resident memory, as an operator's `ps` or a pod's memory graph shows it, in three settings:
 *
 *   etcd mode   three simulated hosts, the default network and two named ones, after `idle` seconds at rest;
 *   at scale    the same hosts after 5,000 remote hosts' leases are written and programmed, then `idle` s;
 *   Kubernetes  one host with --kube-subnet-mgr against the stand-in API server, after `idle` seconds.
 *
 * Peers measured in the same run: a bare Node process idling for the same time (the floor of any Node
 * daemon) and the etcd server (a Go daemon of the same cluster). RSS is split into private memory and the
 * mapped executable's pages, which every weft process on a host shares.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ms, summarize, timeCni } from '../../pkg/measure/mod.ts';
import { FakeKube } from '../../pkg/sim/fake-kube.ts';
import { waitFor } from '../../pkg/sim/mod.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { benchCluster } from '../cluster.ts';
import { putLeases } from '../leases.ts';
import { procStats, type ProcStats } from '../../pkg/measure/mod.ts';

const SCALE = 5000;
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const mib = (x: number) => `${x.toFixed(0)} MiB`;
type Idle = ProcStats & { maxMiB?: number };
const row = (name: string, s: Idle, goal = '') => [
  name,
  mib(s.rssMiB),
  s.maxMiB ? mib(s.maxMiB) : '',
  mib(s.anonMiB),
  mib(s.fileMiB),
  goal,
];
const worst = (xs: readonly Idle[]) => xs.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));

/**
 * Each process's memory over `seconds` at rest, sampled every second: the median sample, with the largest
 * RSS seen (a resync's garbage comes and goes; one sample could catch either).
 */
async function idleStats(pids: readonly number[], seconds: number): Promise<Array<ProcStats & { maxMiB: number }>> {
  const samples = pids.map(() => [] as ProcStats[]);
  for (let t = 0; t < seconds; t++) {
    await sleep(1);
    for (const [i, pid] of pids.entries()) samples[i]!.push(procStats(pid));
  }
  return samples.map((xs) => {
    const sorted = [...xs].sort((a, b) => a.rssMiB - b.rssMiB);
    return { ...sorted[Math.floor(sorted.length / 2)]!, maxMiB: sorted[sorted.length - 1]!.rssMiB };
  });
}

/** A bare Node process doing nothing, for as long as the daemons idle. */
function bareNode(node: string) {
  const p = spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return { stats: () => procStats(p.pid!), stop: () => p.kill('SIGKILL') };
}

function cli(c: SimCluster, n: number, args: string[]): void {
  const d = c.daemon(n);
  const r = spawnSync('nsenter', [`--net=${d.host.path}`, c.opts.bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, WEFT_SOCKET: d.socket },
  });
  if (r.status !== 0) throw new Error(`weft ${args.join(' ')}: ${r.stderr}`);
}

/**
 * ADD+DEL of one container on host 1, on the default network and on RED (whose ADD registers the name with the
 * daemon, DEL removes it), alternating: the p50 of each, in ms.
 */
async function namedCost(c: SimCluster, cycles: number): Promise<{ dflt: number; named: number }> {
  const d = c.daemon(1);
  const ns = await c.sim.namespace('h1-timing');
  const list = JSON.parse(readFileSync(join(d.cniConfDir, 'weft-RED.conflist'), 'utf8')) as {
    name: string;
    cniVersion: string;
    plugins: object[];
  };
  const red = JSON.stringify({ ...list.plugins[0], name: list.name, cniVersion: list.cniVersion });
  const dflt = JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', type: 'weft', subnetFile: d.subnetFile, dataDir: d.cniDataDir });
  const t = { dflt: [] as number[], named: [] as number[] };
  for (let i = 0; i < cycles; i++) {
    for (const [k, conf] of [
      ['dflt', dflt],
      ['named', red],
    ] as const) {
      const p = { name: k, bin: c.opts.bin, conf };
      const add = timeCni(p, d.host.path, 'ADD', `t${i}`, ns.path);
      t[k].push(add + timeCni(p, d.host.path, 'DEL', `t${i}`, ns.path));
    }
  }
  return { dflt: summarize(t.dflt).p50, named: summarize(t.named).p50 };
}

/** Every network's peer count on host n, from the daemon's /status. */
function peers(c: SimCluster, n: number): number[] {
  const r = c.daemon(n).http('/status');
  return r.ok ? (JSON.parse(r.body) as Array<{ peers: number }>).map((s) => s.peers) : [];
}

export async function measureDaemon(o: { node: string; idle: number }): Promise<{ rows: string[][]; named: string }> {
  let named = '';
  const rows = [['daemon at rest (median of 1 s samples)', 'RSS', 'max', 'private', 'executable (shared)', 'goal']];
  // Leases of remote hosts go to 10.1-10.20.x; the simulated hosts lease above 10.100 so none is overwritten.
  const { c, stop } = await benchCluster('fp', {
    Network: '10.0.0.0/8',
    SubnetLen: 24,
    SubnetMin: '10.100.0.0',
    Backend: { Type: 'vxlan' },
  });
  const floor = bareNode(o.node);
  try {
    // The product's resync period (the simulation's default is 2 s, to make tests converge fast).
    for (const n of [1, 2, 3]) await c.addHost(n, ['--resync-period=30']);
    await c.startAll();
    cli(c, 1, ['network', 'create', '--subnet', '172.20.0.0/16', 'RED']);
    cli(c, 2, ['network', 'create', '--subnet', '172.21.0.0/16', 'BLUE']);
    const settled = () => [1, 2, 3].every((n) => peers(c, n).join() === '2,2,2');
    await waitFor('three networks with two peers each on every host', settled, 60_000, 200).catch((e: Error) => {
      throw new Error(`${e.message} (peers per network: ${[1, 2, 3].map((n) => `h${n} ${peers(c, n).join('/')}`).join(', ')})`);
    });
    const cost = await namedCost(c, 10);
    named =
      `a named network's ADD+DEL (registering the name through the daemon) against the default network's: ` +
      `${ms(cost.named)} and ${ms(cost.dflt)}, p50 of 10`;
    const daemons = await idleStats(
      [1, 2, 3].map((n) => c.daemon(n).pid!),
      o.idle,
    );
    rows.push(row(`etcd mode, 3 hosts, 2 named networks, ${o.idle} s (largest of 3)`, worst(daemons), '<= 80 MiB'));
    rows.push(row(`  peer: bare Node idling ${o.idle} s`, floor.stats()));
    rows.push(row('  peer: etcd 3.4 server of the cluster', procStats(c.etcd.members[0]!.pid!)));

    await putLeases(c, 0, SCALE);
    await waitFor(`${SCALE} remote leases programmed`, () => [1, 2, 3].every((n) => (peers(c, n)[0] ?? 0) >= SCALE + 2), 600_000, 500);
    const loaded = await idleStats(
      [1, 2, 3].map((n) => c.daemon(n).pid!),
      o.idle,
    );
    rows.push(row(`with ${SCALE} remote leases, ${o.idle} s (largest of 3)`, worst(loaded), '<= 120 MiB'));
  } finally {
    floor.stop();
    stop();
  }
  rows.push(row(`Kubernetes mode (--kube-subnet-mgr), ${o.idle} s`, await kubeDaemon(o.idle), '<= 140 MiB'));
  return { rows, named };
}

async function kubeDaemon(idle: number): Promise<ProcStats> {
  const { c, stop } = await benchCluster('fpk');
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-kube-'));
  try {
    const api = await c.sim.addHost(251);
    const fake = FakeKube.start(api.netns, api.ip);
    try {
      fake.put({ metadata: { name: 'h1' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] } });
      fake.put({ metadata: { name: 'h2' }, spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] } });
      const d = await c.addHost(1, ['--resync-period=30', ...fake.daemonArgs(dir)]);
      d.start();
      await d.ready();
      return (await idleStats([d.pid!], idle))[0]!;
    } finally {
      fake.close();
    }
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
