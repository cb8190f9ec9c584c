/**
 * A burst: N containers started at once on one host (a node coming up, a deployment scaled out), so N ADDs
 * run concurrently, then N DELs. For weft and for Debian's bridge + host-local, in alternating rounds: the
 * time until the last invocation exits, and the peak memory of all plugin processes alive together (each
 * process's private memory summed, the executable's shared pages once; sampled every 5 ms). Then checks
 * that every container got its own address and that nothing is left after the DELs: no veth on the host,
 * no address reserved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ms, referencePlugin, summarize, type TimedPlugin } from '../../pkg/measure/mod.ts';
import { PeakMemory } from '../../pkg/measure/mod.ts';
import { benchHost } from './bench-host.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function invoke(p: TimedPlugin, hostNs: string, verb: 'ADD' | 'DEL', cid: string, netns: string, pids: Set<number>): Promise<Run> {
  const child = spawn('nsenter', [`--net=${hostNs}`, p.bin], {
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: verb,
      CNI_CONTAINERID: cid,
      CNI_NETNS: netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
    },
  });
  pids.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(p.conf);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      pids.delete(child.pid!);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function wave(p: TimedPlugin, hostNs: string, verb: 'ADD' | 'DEL', netns: readonly string[]) {
  const pids = new Set<number>();
  const peak = new PeakMemory(() => [...pids]);
  const t0 = performance.now();
  const runs = await Promise.all(netns.map((ns, i) => invoke(p, hostNs, verb, `burst-${i}`, ns, pids)));
  const elapsed = performance.now() - t0;
  const peakMiB = peak.stop();
  const failed = runs.filter((r) => r.code !== 0);
  if (failed.length > 0)
    throw new Error(`${p.name} ${verb}: ${failed.length} of ${runs.length} failed, first: ${failed[0]!.stdout}${failed[0]!.stderr}`);
  return { elapsed, peakMiB, runs };
}

/** Interfaces left in the host namespace other than loopback and the bridges. */
function hostVeths(hostNs: string): string[] {
  const r = spawnSync('ip', ['-n', hostNs, '-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
}

/** Address reservations left in a data directory tree (host-local's and weft's files are named by address). */
function reservations(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^\d+\.\d+\.\d+\.\d+$/.test(e.name)) out.push(e.name);
    }
  };
  walk(dir);
  return out;
}

export async function measureBurst(o: { weft: string; n: number; rounds: number; tag: string }): Promise<string[][]> {
  const b = benchHost(o.tag, 'burst', o.n);
  const [host, conts, dir] = [b.host, b.containers, b.dir];
  try {
    const weft = b.weft(o.weft);
    const plugins = [weft, referencePlugin('cni1', '10.99.0.0/24', join(dir, 'host-local'))];
    const netns = conts.map((c) => `/run/netns/${c}`);
    const got = new Map<string, { add: number[]; del: number[]; addPeak: number[]; delPeak: number[] }>();
    for (let round = 0; round < o.rounds; round++) {
      for (const p of round % 2 === 0 ? plugins : [...plugins].reverse()) {
        const add = await wave(p, `/run/netns/${host}`, 'ADD', netns);
        const ips = add.runs.map((r) => (JSON.parse(r.stdout) as { ips: Array<{ address: string }> }).ips[0]!.address);
        if (new Set(ips).size !== o.n) throw new Error(`${p.name}: ${o.n} ADDs got ${new Set(ips).size} distinct addresses`);
        const del = await wave(p, `/run/netns/${host}`, 'DEL', netns);
        const left = [...hostVeths(host), ...reservations(dir)];
        if (left.length > 0) throw new Error(`${p.name}: left after ${o.n} DELs: ${left.join(', ')}`);
        const g = got.get(p.name) ?? { add: [], del: [], addPeak: [], delPeak: [] };
        g.add.push(add.elapsed);
        g.del.push(del.elapsed);
        g.addPeak.push(add.peakMiB);
        g.delPeak.push(del.peakMiB);
        got.set(p.name, g);
      }
    }
    const med = (xs: number[]) => summarize(xs).p50;
    const mib = (x: number) => `${x.toFixed(0)} MiB`;
    const rows = [
      [`burst of ${o.n} on one host (median of ${o.rounds})`, 'ADDs: all done', 'peak memory', 'DELs: all done', 'peak memory'],
    ];
    for (const p of plugins) {
      const g = got.get(p.name)!;
      rows.push([p.name, ms(med(g.add)), mib(med(g.addPeak)), ms(med(g.del)), mib(med(g.delPeak))]);
    }
    rows.push([`checked: ${o.n} distinct addresses per burst; no veth and no reservation left after the DELs`, '', '', '', '']);
    return rows;
  } finally {
    b.remove();
  }
}
