/**
 * What weft as Docker's network plugin costs a container's life, next to Docker's own bridge driver on the same
 * dockerd in the same run: `docker run -d` (create, IPAM, endpoint, join, start) and `docker rm -f` (leave,
 * release), p50 and p90 over N cycles each, alternating so both see the same machine. One simulated host with
 * a real etcd, weft's daemon with --docker, and a dockerd of its own (pkg/lab/docker.ts).
 * Run as root after `npm run bundle`:  npm run bench:docker [-- N]
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DOCKER_DNS_ADDRESS } from '../pkg/defaults.ts';
import { DOCKER_IMAGE, dockerAvailable, SimDocker } from '../pkg/lab/docker.ts';
import { percentile, table } from '../pkg/measure/mod.ts';
import { benchCluster } from './cluster.ts';

const N = Number(process.argv[2] ?? 20);

async function main(): Promise<void> {
  if (!dockerAvailable()) throw new Error('needs docker.io (dockerd and /usr/bin/docker): run scripts/setup.sh');
  const { c, stop } = await benchCluster('docker', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
  let docker: SimDocker | undefined;
  try {
    const ddir = join(c.opts.dir, 'docker');
    await c.addHost(1, [
      '--docker',
      `--docker-plugin-socket=${join(ddir, 'run/plugins/weft.sock')}`,
      `--docker-host=unix://${join(ddir, 'docker.sock')}`,
    ]);
    docker = new SimDocker(ddir, c.hosts[0]!.path, `bench${process.pid}`, DOCKER_DNS_ADDRESS);
    docker.start();
    await c.startAll();
    await docker.ready();
    const d = docker;
    const must = (args: string[]) => {
      const r = d.run(args);
      if (!r.ok) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
    };
    must(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.50.0.0/16', 'RED']);
    must(['network', 'create', '-d', 'bridge', '--subnet=172.30.0.0/16', '-o', 'com.docker.network.bridge.name=br-bench', 'LOCAL']);
    const samples: Record<string, { run: number[]; rm: number[] }> = {
      'bridge (Docker)': { run: [], rm: [] },
      'weft (plugin)': { run: [], rm: [] },
    };
    const cycle = (label: string, net: string, i: number) => {
      const name = `b${i}-${net}`;
      let t = performance.now();
      must(['run', '-d', `--net=${net}`, '--name', name, DOCKER_IMAGE, 'sleep', '600']);
      samples[label]!.run.push(performance.now() - t);
      t = performance.now();
      must(['rm', '-f', name]);
      samples[label]!.rm.push(performance.now() - t);
    };
    cycle('bridge (Docker)', 'LOCAL', -1); // warm both paths once, unmeasured
    cycle('weft (plugin)', 'RED', -1);
    for (const k of Object.values(samples)) k.run.length = k.rm.length = 0;
    for (let i = 0; i < N; i++) {
      cycle('bridge (Docker)', 'LOCAL', i);
      cycle('weft (plugin)', 'RED', i);
    }
    const stat = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: percentile(s, 50), p90: percentile(s, 90) };
    };
    const base = { run: stat(samples['bridge (Docker)']!.run), rm: stat(samples['bridge (Docker)']!.rm) };
    const rows = [['network driver', 'docker run -d p50', 'p90', 'ratio', 'docker rm -f p50', 'p90', 'ratio']];
    for (const [label, s] of Object.entries(samples)) {
      const run = stat(s.run);
      const rm = stat(s.rm);
      rows.push([
        label,
        `${run.p50.toFixed(0)} ms`,
        `${run.p90.toFixed(0)} ms`,
        (run.p50 / base.run.p50).toFixed(2),
        `${rm.p50.toFixed(0)} ms`,
        `${rm.p90.toFixed(0)} ms`,
        (rm.p50 / base.rm.p50).toFixed(2),
      ]);
    }
    process.stdout.write(`Docker container life cycle, ${N} cycles each (one dockerd, one host)\n${table(rows)}\n`);
  } finally {
    docker?.destroy();
    stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:docker: ${(e as Error).message}\n`);
  process.exit(1);
});
