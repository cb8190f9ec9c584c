/**
 * `weft lab bench`: in the running lab, what the overlay costs, each figure next to a peer measured in the
 * same run: pod-to-pod TCP throughput and RTT across hosts next to host-to-host on the underlay; CNI ADD+DEL
 * next to Debian's bridge + host-local; and how long a new host takes to lease, become ready and be
 * programmed on every other host; and the daemons' memory next to etcd's. Writes report.md and report.svg into the lab directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createNamedNetns, deleteNamedNetns } from '../kernel/mod.ts';
import { iperf, percentile, procStats, referencePlugin, rtt, summarize, timeCni, type TimedPlugin } from '../measure/mod.ts';
import { EtcdClient } from '../store/mod.ts';
import { clusterDaemonArgs, Sim, SimDaemon, waitFor, weftPrefixBeside } from '../sim/mod.ts';
import { labProcesses } from './down.ts';
import { labPrefix } from './names.ts';
import { writeReport, type BenchReport } from './report.ts';
import { LAB_ETCD_PREFIX, type LabState } from './state.ts';
import { step } from './up.ts';

export interface BenchOptions {
  readonly rounds: number;
  readonly cycles: number;
  readonly out: (l: string) => void;
}

const median = (xs: readonly number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

async function dataPath(s: LabState, o: BenchOptions): Promise<BenchReport['dataPath']> {
  const [h1, h2] = [s.hosts[0]!, s.hosts[1]!];
  const c1 = s.containers.find((c) => c.name === 'container1')!;
  const c2 = s.containers.find((c) => c.name === 'container2')!;
  // IPv6 over the dual-stack BLUE, inside its VTEP: container3@h2 -> container4@h3 (the underlay is one link).
  const c3 = s.containers.find((c) => c.name === 'container3');
  const c4 = s.containers.find((c) => c.name === 'container4');
  const ip6 = c4?.addresses6?.BLUE;
  const pairs = [
    { name: 'host' as const, server: { path: `/run/netns/${h2.name}` }, client: { path: `/run/netns/${h1.name}` }, ip: h2.ip },
    { name: 'pod' as const, server: { path: c2.netns }, client: { path: c1.netns }, ip: c2.addresses.RED! },
    ...(c3 && c4 && ip6 ? [{ name: 'pod6' as const, server: { path: c4.netns }, client: { path: c3.netns }, ip: ip6 }] : []),
  ];
  const m = {
    host: { gbps: [] as number[], rttUs: [] as number[] },
    pod: { gbps: [] as number[], rttUs: [] as number[] },
    pod6: { gbps: [] as number[], rttUs: [] as number[] },
  };
  for (let r = 0; r < o.rounds; r++) {
    for (const p of r % 2 === 0 ? pairs : [...pairs].reverse()) {
      m[p.name].gbps.push(await iperf(p.server, p.client, p.ip));
      m[p.name].rttUs.push(rtt(p.client, p.ip));
    }
    o.out(`    round ${r + 1}/${o.rounds}`);
  }
  return {
    rounds: o.rounds,
    hostGbps: median(m.host.gbps),
    podGbps: median(m.pod.gbps),
    hostRttUs: median(m.host.rttUs),
    podRttUs: median(m.pod.rttUs),
    ...(m.pod6.gbps.length > 0 && { pod6Gbps: median(m.pod6.gbps), pod6RttUs: median(m.pod6.rttUs) }),
  };
}

function cni(s: LabState, o: BenchOptions): BenchReport['cni'] {
  const h1 = s.hosts[0]!;
  const dir = join(s.dir, 'bench');
  mkdirSync(dir, { recursive: true });
  const cont = `${labPrefix(s.dir)}bench-c`;
  const ns = createNamedNetns(cont);
  ns.close();
  try {
    const weft: TimedPlugin = {
      name: 'weft',
      bin: s.bin,
      conf: JSON.stringify({
        cniVersion: '1.0.0',
        name: 'bench',
        type: 'weft',
        subnetFile: join(h1.dir, 'subnet.env'),
        dataDir: join(dir, 'weft'),
      }),
    };
    const ref = referencePlugin('cni-ref', '10.99.0.0/24', join(dir, 'host-local'));
    const t: Record<string, number[]> = {};
    const put = (k: string, v: number) => {
      t[k] ??= [];
      t[k].push(v);
    };
    for (let i = -2; i < o.cycles; i++) {
      for (const p of i % 2 === 0 ? [weft, ref] : [ref, weft]) {
        const cid = `lab-bench-${i + 2}`;
        const add = timeCni(p, `/run/netns/${h1.name}`, 'ADD', cid, `/run/netns/${cont}`);
        const del = timeCni(p, `/run/netns/${h1.name}`, 'DEL', cid, `/run/netns/${cont}`);
        const ver = timeCni(p, `/run/netns/${h1.name}`, 'VERSION', cid, `/run/netns/${cont}`);
        if (i < 0) continue;
        put(`${p.name} ADD+DEL`, add + del);
        put(`${p.name} VERSION`, ver);
      }
    }
    const p50 = (k: string) => summarize(t[k]!).p50;
    return {
      cycles: o.cycles,
      weftMs: p50('weft ADD+DEL'),
      refMs: p50('bridge+host-local ADD+DEL'),
      weftVersionMs: p50('weft VERSION'),
      refVersionMs: p50('bridge+host-local VERSION'),
    };
  } finally {
    deleteNamedNetns(cont);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lab's process whose command line (argv) matches, if it runs. */
function labProcess(s: LabState, match: (argv: string[]) => boolean): number | undefined {
  return labProcesses(s.dir).find((pid) => {
    try {
      return match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** What weft costs each host: its daemons' memory after the bench, next to the lab's etcd server, and the executable. */
function footprint(s: LabState): BenchReport['footprint'] {
  const daemons = s.hosts.flatMap((h) => {
    const pid = labProcess(s, (argv) => argv[1] === 'daemon' && argv.includes(`--run-dir=${join(h.dir, 'run')}`));
    return pid === undefined ? [] : [procStats(pid)];
  });
  if (daemons.length === 0) throw new Error('no daemon of the lab is running');
  const largest = daemons.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
  const etcd = labProcess(s, (argv) => basename(argv[0] ?? '') === 'etcd');
  return {
    daemons: daemons.length,
    daemonRssMiB: largest.rssMiB,
    daemonPrivateMiB: largest.anonMiB,
    etcdRssMiB: etcd === undefined ? undefined : procStats(etcd).rssMiB,
    executableMiB: statSync(s.bin).size / 1024 / 1024,
  };
}

/** Adds host N+1, times its lease, readiness and programming on every other host, then removes it again. */
async function newHost(s: LabState): Promise<BenchReport['newHost']> {
  const prefix = labPrefix(s.dir);
  const sim = await Sim.reattach(prefix);
  const n = Math.max(...s.hosts.map((h) => h.n)) + 1;
  const hostDir = join(s.dir, `h${n}`);
  const etcd = new EtcdClient({ endpoints: [s.etcd.socketEndpoint] });
  let d: SimDaemon | undefined;
  try {
    const host = await sim.addHost(n);
    d = new SimDaemon(host, { dir: hostDir, bin: s.bin, args: clusterDaemonArgs(s.etcd, LAB_ETCD_PREFIX) });
    const t0 = performance.now();
    d.start();
    // The subnet file is written once the lease is held (as a network CIDR once parsed).
    const net = await waitFor(
      "the new host's lease",
      () => {
        try {
          return d!.subnetEnv().subnet;
        } catch {
          return undefined;
        }
      },
      30_000,
      5,
    );
    const leaseMs = performance.now() - t0;
    const routed = (h: { name: string }) =>
      spawnSync('ip', ['-n', h.name, 'route', 'show', net], { encoding: 'utf8' }).stdout.trim() !== '';
    await waitFor('every host programmed for the new host', () => s.hosts.every(routed), 30_000, 5);
    const peersMs = performance.now() - t0;
    await d.ready(30_000);
    const readyMs = performance.now() - t0;
    return { hosts: s.hosts.length, leaseMs, peersMs, readyMs };
  } finally {
    await d?.stop();
    // Its leases go with it, so the other hosts drop its routes as they would for a host that left for good.
    for (const prefixKey of [`${LAB_ETCD_PREFIX}/subnets/`, `${weftPrefixBeside(LAB_ETCD_PREFIX)}/networks/`]) {
      const { kvs } = await etcd.getPrefix(prefixKey).catch(() => ({ kvs: [] }));
      for (const { key, value } of kvs)
        if (key.includes('/subnets/') && value.includes(`"PublicIP":"192.0.2.${n}"`)) await etcd.delete(key);
    }
    etcd.close();
    sim.destroy();
    rmSync(hostDir, { recursive: true, force: true });
  }
}

export async function labBench(s: LabState, o: BenchOptions): Promise<BenchReport> {
  o.out(`weft lab bench: ${s.hosts.length} hosts in ${s.dir}`);
  const dataPathR = await step(
    o.out,
    'data path: 1 TCP stream (iperf3, 5 s) and ping, container1@h1 -> container2@h2 (and container3@h2 -> container4@h3 ' +
      `over IPv6) next to h1 -> h2, ${o.rounds} rounds`,
    () => dataPath(s, o),
    'is iperf3 installed (apt-get install iperf3)? is the lab up (weft lab status)?',
  );
  const cniR = await step(
    o.out,
    `CNI ADD+DEL: weft next to bridge+host-local on h1, ${o.cycles} cycles each`,
    () => cni(s, o),
    "are Debian's reference plugins in /usr/lib/cni (apt-get install containernetworking-plugins)?",
  );
  const newHostR = await step(
    o.out,
    'convergence: a new host joins (lease, peers programmed, ready) and leaves',
    () => newHost(s),
    'see weft lab status; weft lab down removes a half-added host too',
  );
  const footprintR = await step(
    o.out,
    "footprint: the daemons' memory, next to the lab's etcd server",
    async () => footprint(s),
    'is the lab up (weft lab status)?',
  );
  const report: BenchReport = {
    when: new Date().toISOString(),
    dataPath: dataPathR,
    cni: cniR,
    newHost: newHostR,
    footprint: footprintR,
  };
  o.out('');
  writeReport(s.dir, report, o.out);
  return report;
}
