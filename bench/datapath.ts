/**
 * Data-path benchmark: TCP throughput (iperf3, one stream) and RTT (ping) between two pods on different
 * hosts, next to the same measurement between the two hosts directly on their underlay, interleaved in one
 * run, first over VXLAN and then with DirectRouting (plain routing between hosts on one subnet); then
 * dual-stack (issue 15): IPv6 pods over `flannel-v6.1` on the IPv6 underlay next to host-to-host over IPv6,
 * with weft's MTU (underlay - 70 for the VTEP and the pods) and then flannel's (pods at underlay - 50; the kernel
 * keeps an IPv6 VTEP with a lower device at underlay - 70 whatever is asked, as flannel#1781 found). Everything
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
  const { c, stop } = await benchCluster('dp', undefined, { ipv6: true });
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

    // Dual-stack: the daemons restarted on a dual-stack config (each host keeps its IPv4 subnet, its key gains
    // an IPv6 half); new pods get both families.
    for (const d of c.daemons) await d.stop();
    await c.putConfig({ Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fc00::/48', Backend: { Type: 'vxlan' } });
    await c.startAll();
    const [q1, q2] = [await c.pod(1, 'pod61'), await c.pod(2, 'pod62')];
    const six = await measure('dual-stack', [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip6! },
      { name: 'pod-to-pod', server: q2.ns, client: q1.ns, ip: q2.ip6! },
    ]);
    // flannel's MTU: the daemons stopped (they would put weft's back), bridges and pods at underlay - 50, as
    // flanneld's FLANNEL_MTU makes them; the VTEP stays at 1430 (the kernel refuses more over an IPv6 lower device).
    for (const d of c.daemons) await d.stop();
    for (const [h, pod] of [
      [h1, q1],
      [h2, q2],
    ] as const) {
      const ports = spawnSync('ip', ['-n', h.name, '-j', 'link', 'show', 'master', 'cni0'], { encoding: 'utf8' }).stdout;
      const links = ['cni0', ...(JSON.parse(ports) as Array<{ ifname: string }>).map((l) => l.ifname)];
      for (const l of links) spawnSync('ip', ['-n', h.name, 'link', 'set', l, 'mtu', '1450']);
      spawnSync('ip', ['-n', pod.ns.name, 'link', 'set', 'eth0', 'mtu', '1450']);
    }
    const flannelMtu = await measure("flannel's MTU", [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip6! },
      { name: 'pod-to-pod', server: q2.ns, client: q1.ns, ip: q2.ip6! },
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
        row('host-to-host, IPv6 underlay', six.get('host-to-host')!, six.get('host-to-host')!),
        row('pod-to-pod, IPv6 (MTU 1430)', six.get('pod-to-pod')!, six.get('host-to-host')!),
        row('host-to-host, IPv6, 2nd run', flannelMtu.get('host-to-host')!, flannelMtu.get('host-to-host')!),
        row("pod-to-pod, IPv6, pods at flannel's 1450", flannelMtu.get('pod-to-pod')!, flannelMtu.get('host-to-host')!),
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
