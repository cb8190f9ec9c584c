/**
 * Data-path benchmark: TCP throughput (iperf3, one stream) and RTT (ping) between two pods on different
 * hosts, next to the same measurement between the two hosts directly on their underlay, interleaved in one
 * run, first over VXLAN and then with DirectRouting (plain routing between hosts on one subnet). Everything
 * is veth and namespaces on one machine, so absolute numbers are this machine's CPU; the ratios against the
 * host-to-host path measured alongside are the result. Run as root after `npm run build`:
 *
 *   npm run bench:datapath [-- ROUNDS]     (default 3; 5 s per iperf3 run)
 */
import { spawnSync } from 'node:child_process';
import { waitFor, type SimNs } from '../pkg/sim/mod.ts';
import { benchCluster } from './cluster.ts';
import { iperf, percentile, rtt, table } from '../pkg/measure/mod.ts';

const ROUNDS = Number(process.argv[2] ?? 3);

async function measure(
  label: string,
  pairs: Array<{ name: string; server: SimNs; client: SimNs; ip: string }>,
): Promise<Map<string, { gbps: number[]; rttUs: number[] }>> {
  const out = new Map<string, { gbps: number[]; rttUs: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of round % 2 === 0 ? pairs : [...pairs].reverse()) {
      const m = out.get(p.name) ?? { gbps: [], rttUs: [] };
      m.gbps.push(await iperf(p.server, p.client, p.ip));
      m.rttUs.push(rtt(p.client, p.ip));
      out.set(p.name, m);
    }
    process.stderr.write(`  ${label}: round ${round + 1}/${ROUNDS} done\n`);
  }
  return out;
}

async function main(): Promise<void> {
  const { c, stop } = await benchCluster('dp');
  try {
    await c.addHost(1);
    await c.addHost(2);
    await c.startAll();
    const [p1, p2] = [await c.pod(1, 'pod1'), await c.pod(2, 'pod2')];
    const [h1, h2] = c.hosts as [(typeof c.hosts)[0] & object, (typeof c.hosts)[0] & object];
    const vx = await measure('vxlan', [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip },
      { name: 'pod-to-pod', server: p2.ns, client: p1.ns, ip: p2.ip },
    ]);

    // DirectRouting: the same pods, the daemons restarted with the new config (leases and addresses are kept).
    for (const d of c.daemons) await d.stop();
    await c.putConfig({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan', DirectRouting: true } });
    await c.startAll();
    await waitFor('direct routes', () =>
      spawnSync('ip', ['-n', h1.name, 'route', 'show', c.daemon(2).subnetEnv().subnet!], { encoding: 'utf8' }).stdout.includes(
        `via ${h2.ip} dev eth0`,
      ),
    );
    const dr = await measure('direct routing', [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip },
      { name: 'pod-to-pod', server: p2.ns, client: p1.ns, ip: p2.ip },
    ]);

    const med = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const row = (label: string, m: { gbps: number[]; rttUs: number[] }, base: { gbps: number[]; rttUs: number[] }) => [
      label,
      `${med(m.gbps).toFixed(2)} Gbit/s`,
      `${(med(m.gbps) / med(base.gbps)).toFixed(2)}`,
      `${med(m.rttUs).toFixed(0)} us`,
      `${(med(m.rttUs) / med(base.rttUs)).toFixed(2)}`,
    ];
    console.log(
      `weft data path: 1 TCP stream (iperf3, 5 s) and ping RTT between two hosts' pods, medians of ${ROUNDS} interleaved rounds\n`,
    );
    console.log(
      table([
        ['path', 'throughput', 'vs host', 'RTT', 'vs host'],
        row('host-to-host (underlay)', vx.get('host-to-host')!, vx.get('host-to-host')!),
        row('pod-to-pod over VXLAN', vx.get('pod-to-pod')!, vx.get('host-to-host')!),
        row('host-to-host (underlay), 2nd run', dr.get('host-to-host')!, dr.get('host-to-host')!),
        row('pod-to-pod, DirectRouting', dr.get('pod-to-pod')!, dr.get('host-to-host')!),
      ]),
    );
  } finally {
    stop();
  }
}

main().catch((e) => {
  console.error(`bench/datapath: ${(e as Error).message}`);
  process.exitCode = 1;
});
