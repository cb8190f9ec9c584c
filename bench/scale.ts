/**
 * Scale benchmark (issue 28): N simulated hosts, each a real `weft daemon` in its own namespace against one
 * real etcd, carrying the flannel default network and two named networks (RED, BLUE), for N = 10, 25, 50 (or
 * the counts given). For each N:
 *
 *   at rest   per daemon: RSS, CPU and the requests it sends etcd per second (by method, from etcd's own
 *             metrics); etcd: CPU, database size, watchers. 60 s, the daemons' default 30 s resync period.
 *   join      a new host: from its lease reaching etcd to its route existing on every other host (p50, p99:
 *             over the other hosts), timed by route notifications in each host's namespace.
 *   renewal   what one lease renewal costs: a keep-alive request, and the watch events it makes (none: the
 *             key is not rewritten), counted over the at-rest window, in which the host records renew.
 *   create    one `weft network create`: until every host routes to every other on it; requests and watch
 *             events it cost etcd beyond the at-rest rate.
 *   restart   (largest N) every daemon stopped, then started at once: until all are ready; requests; the
 *             busiest second; then how the host-record renewals spread over the next 90 s (the jitter).
 *
 * Prints one table per N, then the figures against N with the slope between the smallest and largest N
 * (how each grows: 1.0 is linear), and writes the chart (docs/scale.svg with --write-docs, else
 * bench/out/scale.svg). Run as root after `npm run bundle`:  npm run bench:scale [-- 10 25 50] [--write-docs]
 * (about 12 minutes for 10, 25 and 50 on 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Netlink } from '../pkg/kernel/mod.ts';
import { percentile, procStats, table } from '../pkg/measure/mod.ts';
import { RTM } from '../pkg/rtnl/constants.ts';
import { decodeRoute } from '../pkg/rtnl/route.ts';
import { SimDaemon, waitFor, withBinds } from '../pkg/sim/mod.ts';
import type { SimCluster } from '../pkg/sim/cluster.ts';
import { benchCluster } from './cluster.ts';
import { etcdLoad, loadBetween, type EtcdLoad } from './etcd-metrics.ts';
import { scaleChartSvg, type Panel } from './scale-chart.ts';

const args = process.argv.slice(2);
const COUNTS = args.filter((a) => /^\d+$/.test(a)).map(Number);
const flag = (name: string, dflt: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const SIZES = COUNTS.length > 0 ? COUNTS : [10, 25, 50];
const WRITE_DOCS = args.includes('--write-docs');
/** Seconds at rest, and of renewals watched after the mass restart (shorter with --rest=S --renewals=S for a try). */
const REST_S = flag('rest', 60);
const RENEWALS_S = flag('renewals', 90);
const RANGES = { default: '10.244.', RED: '10.10.', BLUE: '10.20.', GREEN: '10.30.' } as const;
const RTNLGRP_IPV4_ROUTE = 7;
/** The second mass restart's --startup-jitter, seconds. */
const JITTER_S = 10;

interface Figures {
  readonly n: number;
  readonly startS: number;
  readonly rssMiB: number;
  readonly cpuPct: number;
  readonly reqPerS: number;
  /** Bytes etcd sends each idle daemon per second. */
  readonly bytesPerS: number;
  readonly restByMethod: string;
  readonly etcdCpuPct: number;
  readonly dbMiB: number;
  readonly watchers: number;
  readonly renewalEvents: number;
  readonly renewals: number;
  readonly joinP50: number;
  readonly joinP99: number;
  readonly createMs: number;
  readonly createReq: number;
  readonly createEvents: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Remote routes (through a VXLAN device: they have a gateway) into `range` on a host. */
async function remoteRoutes(nl: Netlink, range: string): Promise<number> {
  return (await nl.listRoutes({ family: 4 })).filter((r) => r.gateway !== undefined && r.dst.startsWith(range)).length;
}

/** Every host of `hosts` routes to every other on each of `ranges`. */
async function converged(sockets: readonly Netlink[], ranges: readonly string[], others: number): Promise<boolean> {
  for (const nl of sockets) for (const r of ranges) if ((await remoteRoutes(nl, r)) < others) return false;
  return true;
}

function cli(c: SimCluster, d: SimDaemon, argv: readonly string[]): string {
  const r = spawnSync('nsenter', [`--net=${d.host.path}`, ...withBinds(d.binds), c.opts.bin, ...argv], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, WEFT_SOCKET: d.socket },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`weft ${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Waits until every daemon is ready, asking one at a time: each question runs a process in the host's
 * namespace, and fifty daemons each polled ten times a second cost the machine more than the daemons' start.
 */
async function allReady(ds: readonly SimDaemon[], ms: number): Promise<void> {
  for (const d of ds) await waitFor(`${d.host.name} ready`, () => d.http('/readyz').ok, ms, 250);
}

/** Starts daemons a batch at a time (their start-up is CPU-bound: 2 cores here), each batch ready before the next. */
async function startAll(ds: readonly SimDaemon[], batch = 10): Promise<void> {
  for (let i = 0; i < ds.length; i += batch) {
    const part = ds.slice(i, i + batch);
    for (const d of part) d.start();
    await allReady(part, 120_000);
  }
}

async function run(n: number, last: boolean): Promise<Figures> {
  const { c, stop } = await benchCluster(`scale${n}`, { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
  const sockets: Netlink[] = [];
  try {
    const etcdSocket = join(c.etcd.members[0]!.dir, 'etcd.sock:1');
    for (let i = 1; i <= n; i++) await c.addHost(i, ['--resync-period=30']);
    const t0 = performance.now();
    await startAll(c.daemons);
    const startS = (performance.now() - t0) / 1000;
    cli(c, c.daemon(1), ['network', 'create', '--subnet', '10.10.0.0/16', 'RED']);
    cli(c, c.daemon(1), ['network', 'create', '--subnet', '10.20.0.0/16', 'BLUE']);
    for (const h of c.hosts) sockets.push(Netlink.open({ netns: h.netns }));
    const ranges = [RANGES.default, RANGES.RED, RANGES.BLUE];
    await waitFor('every host routing to every other on three networks', () => converged(sockets, ranges, n - 1), 300_000, 500);
    await sleep(5000);

    // At rest.
    const pids = c.daemons.map((d) => d.pid!);
    const before = pids.map(procStats);
    const e0 = await etcdLoad(etcdSocket);
    const r0 = performance.now();
    await sleep(REST_S * 1000);
    const e1 = await etcdLoad(etcdSocket);
    const restS = (performance.now() - r0) / 1000;
    const after = pids.map(procStats);
    const rest = loadBetween(e0, e1);
    const cpuPct = (after.reduce((a, s, i) => a + s.cpuSec - before[i]!.cpuSec, 0) / n / restS) * 100;
    const rssMiB = after.reduce((a, s) => a + s.rssMiB, 0) / n;
    const perSec = (x: number) => x / restS;
    const renewals = rest.requests.get('LeaseKeepAlive') ?? 0;

    // A new host joins: its default-network route on every other host, from its lease in etcd.
    const joinMs = await joinHost(c, n, sockets);

    // One network create.
    const c0 = await etcdLoad(etcdSocket);
    const k0 = performance.now();
    cli(c, c.daemon(1), ['network', 'create', '--subnet', '10.30.0.0/16', 'GREEN']);
    await waitFor('GREEN on every host', () => converged(sockets, [RANGES.GREEN], n), 120_000, 50);
    const createMs = performance.now() - k0;
    const created = loadBetween(c0, await etcdLoad(etcdSocket));
    const idleShare = (x: number) => (x / restS) * (createMs / 1000);

    const f: Figures = {
      n,
      startS,
      rssMiB,
      cpuPct,
      reqPerS: perSec(rest.total) / n,
      bytesPerS: perSec(rest.sentBytes) / n,
      restByMethod: [...rest.requests]
        .sort((a, b) => b[1] - a[1])
        .map(([m, k]) => `${m} ${(perSec(k) / n).toFixed(3)}`)
        .join(', '),
      etcdCpuPct: (rest.cpuSec / restS) * 100,
      dbMiB: e1.dbBytes / 2 ** 20,
      watchers: e1.watchers,
      renewalEvents: rest.events,
      renewals,
      joinP50: percentile(joinMs, 50),
      joinP99: percentile(joinMs, 99),
      createMs,
      createReq: Math.max(0, Math.round(created.total - idleShare(rest.total))),
      createEvents: Math.max(0, Math.round(created.events - idleShare(rest.events))),
    };
    printRun(f);
    if (last) {
      await massRestart(c, etcdSocket, 'without --startup-jitter');
      // The same again with every daemon given --startup-jitter: the burst spread over that many seconds.
      await Promise.all(c.daemons.map((d) => d.stop()));
      c.daemons.forEach((d, i) => {
        const args = [...d.args, `--startup-jitter=${JITTER_S}`];
        c.daemons[i] = new SimDaemon(d.host, { dir: d.dir, bin: d.bin, args, binds: d.binds, env: d.env });
      });
      await massRestart(c, etcdSocket, `with --startup-jitter=${JITTER_S}`, true);
    }
    return f;
  } finally {
    for (const s of sockets) s.close();
    stop();
  }
}

/** Host n+1 starts; each other host's first route to its default-network subnet, after its lease's PUT. */
async function joinHost(c: SimCluster, n: number, sockets: readonly Netlink[]): Promise<number[]> {
  const d = await c.addHost(n + 1, ['--resync-period=30']);
  const ip = c.hosts[n]!.ip;
  let leaseAt: number | undefined;
  let subnet: string | undefined;
  const rev = (await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).revision;
  const watcher = await c.etcd.client.watchPrefix(`${c.prefix}/subnets/`, String(BigInt(rev) + 1n), {
    events: (evs) => {
      for (const ev of evs)
        if (ev.type === 'put' && leaseAt === undefined && ev.kv.value.includes(`"PublicIP":"${ip}"`)) {
          leaseAt = performance.now();
          subnet = ev.kv.key.split('/').pop()!.replace('-', '/');
        }
    },
    end: () => {},
  });
  // Every host's first route to each destination, by time: a daemon may program the new host before the
  // lease's PUT reaches this process's watcher.
  const routed = sockets.map(() => new Map<string, number>());
  const notified: Netlink[] = [];
  try {
    c.hosts.slice(0, n).forEach((h, i) => {
      const nl = Netlink.open({ netns: h.netns });
      notified.push(nl);
      nl.socket.subscribe(RTNLGRP_IPV4_ROUTE);
      nl.socket.onNotification = (m) => {
        if (m.type !== RTM.NEWROUTE) return;
        const r = decodeRoute(m.payload);
        if (r && !routed[i]!.has(r.dst)) routed[i]!.set(r.dst, performance.now());
      };
    });
    // Nothing synchronous until every route is seen (no readiness probe: it runs a process): this loop stamps
    // the watch event and the notifications as they arrive.
    d.start();
    await waitFor('the new host routed to by every other', () => subnet !== undefined && routed.every((m) => m.has(subnet!)), 120_000, 20);
    await d.ready(120_000);
    return routed.map((m) => m.get(subnet!)! - leaseAt!).sort((a, b) => a - b);
  } finally {
    for (const s of notified) s.close();
    await watcher.cancel();
  }
}

/** Every daemon stopped, then started at once; the busiest second; then when the host records renew. */
async function massRestart(c: SimCluster, etcdSocket: string, how: string, stopped = false): Promise<void> {
  if (!stopped) await Promise.all(c.daemons.map((d) => d.stop()));
  const samples: Array<{ at: number; load: EtcdLoad }> = [];
  const sample = async () => samples.push({ at: performance.now(), load: await etcdLoad(etcdSocket) });
  await sample();
  const t0 = performance.now();
  for (const d of c.daemons) d.start();
  let done = false;
  const sampling = (async () => {
    while (!done) {
      await sleep(1000);
      await sample();
    }
  })();
  await allReady(c.daemons, 300_000);
  const readyS = (performance.now() - t0) / 1000;
  // The host records renew every 30 s (less up to a fifth, at random): watch two and a half periods.
  await sleep(RENEWALS_S * 1000);
  done = true;
  await sampling;
  const perSecond = samples.slice(1).map((s, i) => ({
    at: (s.at - t0) / 1000,
    ...loadBetween(samples[i]!.load, s.load),
  }));
  const whileStarting = perSecond.filter((s) => s.at <= readyS + 1);
  const total = whileStarting.reduce((a, s) => a + s.total, 0);
  const bytes = whileStarting.reduce((a, s) => a + s.sentBytes, 0);
  const events = whileStarting.reduce((a, s) => a + s.events, 0);
  const busiest = Math.max(...whileStarting.map((s) => s.total));
  const keepAlives = perSecond.filter((s) => s.at > readyS + 5).map((s) => s.requests.get('LeaseKeepAlive') ?? 0);
  const n = c.daemons.length;
  console.log(
    `\nmass restart of all ${n} daemons, ${how}: all ready ${readyS.toFixed(1)} s after the start; ${total} requests to etcd meanwhile, ` +
      `the busiest second ${busiest}; etcd sent ${(bytes / 2 ** 20).toFixed(1)} MiB and ${events} watch events\n` +
      `host-record renewals in the ${keepAlives.length} s after (1 s buckets): busiest second ${Math.max(...keepAlives)}, ` +
      `mean ${(keepAlives.reduce((a, b) => a + b, 0) / Math.max(1, keepAlives.length)).toFixed(2)}, ` +
      `seconds with none ${keepAlives.filter((k) => k === 0).length}: ` +
      keepAlives.join(' '),
  );
}

function printRun(f: Figures): void {
  console.log(`\nN = ${f.n} hosts (started in ${f.startS.toFixed(1)} s, ten at a time)`);
  console.log(
    table([
      ['figure', 'value'],
      ['daemon RSS at rest (mean)', `${f.rssMiB.toFixed(0)} MiB`],
      ['daemon CPU at rest (mean)', `${f.cpuPct.toFixed(2)}% of a core`],
      ['requests each idle daemon sends etcd', `${f.reqPerS.toFixed(3)}/s (${f.restByMethod})`],
      ['bytes etcd sends each idle daemon', `${f.bytesPerS.toFixed(0)} B/s`],
      ['etcd CPU at rest', `${f.etcdCpuPct.toFixed(2)}% of a core`],
      ['etcd database / watchers', `${(f.dbMiB * 1024).toFixed(0)} KiB / ${f.watchers}`],
      ['lease renewals at rest: keep-alives / watch events', `${f.renewals} / ${f.renewalEvents} in ${REST_S} s`],
      ['new host routed to by every other, p50 / p99', `${f.joinP50.toFixed(1)} / ${f.joinP99.toFixed(1)} ms`],
      ['network create until every host routes on it', `${f.createMs.toFixed(0)} ms`],
      ['network create cost: requests / watch events', `${f.createReq} / ${f.createEvents}`],
    ]),
  );
}

/** The exponent k in figure ~ N^k between the first and last N: 1 is linear, 0 flat, 2 quadratic. */
const slope = (xs: readonly Figures[], get: (f: Figures) => number): string => {
  const [a, b] = [xs[0]!, xs[xs.length - 1]!];
  if (xs.length < 2 || get(a) <= 0 || get(b) <= 0) return '-';
  return (Math.log(get(b) / get(a)) / Math.log(b.n / a.n)).toFixed(2);
};

function summary(all: readonly Figures[]): void {
  const rows: Array<[string, (f: Figures) => number, (v: number) => string]> = [
    ['join p50 (ms)', (f) => f.joinP50, (v) => v.toFixed(1)],
    ['join p99 (ms)', (f) => f.joinP99, (v) => v.toFixed(1)],
    ['daemon RSS (MiB)', (f) => f.rssMiB, (v) => v.toFixed(0)],
    ['daemon CPU at rest (%)', (f) => f.cpuPct, (v) => v.toFixed(2)],
    ['requests/s per idle daemon', (f) => f.reqPerS, (v) => v.toFixed(3)],
    ['bytes/s etcd sends per idle daemon', (f) => f.bytesPerS, (v) => v.toFixed(0)],
    ['etcd CPU at rest (%)', (f) => f.etcdCpuPct, (v) => v.toFixed(2)],
    ['etcd DB (KiB)', (f) => f.dbMiB * 1024, (v) => v.toFixed(0)],
    ['etcd watchers', (f) => f.watchers, (v) => v.toFixed(0)],
    ['network create (ms)', (f) => f.createMs, (v) => v.toFixed(0)],
    ['network create: requests', (f) => f.createReq, (v) => v.toFixed(0)],
    ['network create: watch events', (f) => f.createEvents, (v) => v.toFixed(0)],
  ];
  console.log(`\nAgainst N (slope: the exponent k in figure ~ N^k from N=${all[0]!.n} to N=${all.at(-1)!.n})\n`);
  console.log(
    table([
      ['figure', ...all.map((f) => `N=${f.n}`), 'slope'],
      ...rows.map(([name, get, fmt]) => [name, ...all.map((f) => fmt(get(f))), slope(all, get)]),
    ]),
  );
  const pts = (get: (f: Figures) => number) => all.map((f) => [f.n, get(f)] as const);
  const panels: Panel[] = [
    {
      title: 'new host routed to by all',
      unit: 'ms',
      series: [
        { label: 'p50', points: pts((f) => f.joinP50) },
        { label: 'p99', points: pts((f) => f.joinP99) },
      ],
    },
    { title: 'daemon RSS at rest', unit: 'MiB', series: [{ label: 'mean per daemon', points: pts((f) => f.rssMiB) }] },
    {
      title: 'CPU at rest',
      unit: '% core',
      series: [
        { label: 'per daemon', points: pts((f) => f.cpuPct) },
        { label: 'etcd', points: pts((f) => f.etcdCpuPct) },
      ],
    },
    {
      title: 'etcd requests at rest',
      unit: '/s',
      series: [
        { label: 'all daemons', points: pts((f) => f.reqPerS * f.n) },
        { label: 'per daemon x10', points: pts((f) => f.reqPerS * 10) },
      ],
    },
    { title: 'network create, all hosts', unit: 'ms', series: [{ label: 'until every host routes', points: pts((f) => f.createMs) }] },
    { title: 'network create cost', unit: '', series: [{ label: 'watch events', points: pts((f) => f.createEvents) }] },
  ];
  const out = WRITE_DOCS ? resolve(import.meta.dirname, '../docs/scale.svg') : resolve(import.meta.dirname, 'out/scale.svg');
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, scaleChartSvg('weft bench:scale: real daemons against one etcd (one 2-core machine)', panels));
  console.log(`\nchart: ${out}`);
}

async function main(): Promise<void> {
  const all: Figures[] = [];
  for (const [i, n] of SIZES.entries()) all.push(await run(n, i === SIZES.length - 1));
  summary(all);
}

main().catch((e) => {
  console.error(`bench/scale: ${(e as Error).message}`);
  process.exitCode = 1;
});
