/**
 * Data-path benchmark: TCP throughput (iperf3, one stream) and RTT (ping) between two pods on different
 * hosts, next to the same measurement between the two hosts directly on their underlay, interleaved in one
 * run, first over VXLAN and then with DirectRouting (plain routing between hosts on one subnet); then
 * dual-stack (issue 15): IPv6 pods over `flannel-v6.1` on the IPv6 underlay next to host-to-host over IPv6,
 * with weft's MTU (underlay - 70 for the VTEP and the pods) and then flannel's (pods at underlay - 50; the kernel
 * keeps an IPv6 VTEP with a lower device at underlay - 70 whatever is asked, as flannel#1781 found). Everything
 * is veth and namespaces on one machine, so absolute numbers are this machine's CPU; the ratios against the
 * host-to-host path measured alongside are the result.
 *
 * The cost of issue 25's tables (the port guard on the pods' ports, isolation by interface, the VXLAN source
 * filter): after the first section the daemons stop (the kernel keeps what they made, so the data path works
 * on), and each round measures pod-to-pod with weft's tables in place and with them removed, interleaved.
 * A named network exists throughout, so the isolation table does too. Run as root after `npm run bundle`:
 *
 *   npm run bench:datapath [-- ROUNDS]     (default 3; 5 s per iperf3 run)
 */
import { spawnSync } from 'node:child_process';
import { waitFor, type SimNs } from '../pkg/sim/mod.ts';
import { benchCluster } from './cluster.ts';
import { iperf, percentile, rtt, table } from '../pkg/measure/mod.ts';

const ROUNDS = Number(process.argv[2] ?? 3);

/** What issue 25 added to every host: the port guard, isolation (by interface too), the VXLAN source filter. */
const ISSUE25_TABLES = ['bridge weft_guard', 'inet weft_isolation', 'inet weft_vxlan'];

function nft(h: SimNs, args: string[], input?: string): string {
  const r = spawnSync('nsenter', [`--net=${h.path}`, 'nft', ...args], { encoding: 'utf8', ...(input !== undefined && { input }) });
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')} in ${h.name}: ${r.stderr}`);
  return r.stdout;
}

const nftTry = (h: SimNs, args: string[]) => spawnSync('nsenter', [`--net=${h.path}`, 'nft', ...args]);

const nftTables = (h: SimNs) => spawnSync('nsenter', [`--net=${h.path}`, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout;

async function measure(
  label: string,
  pairs: Array<{ name: string; server: SimNs; client: SimNs; ip: string; before?: () => void }>,
): Promise<Map<string, { gbps: number[]; rttUs: number[] }>> {
  const out = new Map<string, { gbps: number[]; rttUs: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of round % 2 === 0 ? pairs : [...pairs].reverse()) {
      p.before?.();
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
    // A named network beside the default one: the isolation table exists, as on any host with networks to keep apart.
    const made = spawnSync('nsenter', [`--net=${h1.path}`, c.opts.bin, 'network', 'create', '--subnet', '10.10.10.0/24', 'RED'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, WEFT_SOCKET: c.daemon(1).socket },
    });
    if (made.status !== 0) throw new Error(`network create: ${made.stderr}`);
    await waitFor('the isolation table on both hosts', () => c.hosts.every((h) => nftTables(h).includes('inet weft_isolation')), 20_000);
    const vx = await measure('vxlan', [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip },
      { name: 'pod-to-pod', server: p2.ns, client: p1.ns, ip: p2.ip },
    ]);

    // Issue 25's tables on and off, interleaved, the daemons stopped so nothing puts them back in between.
    for (const d of c.daemons) await d.stop();
    const saved = c.hosts.map((h) => ISSUE25_TABLES.map((t) => nft(h, ['list', 'table', ...t.split(' ')])).join('\n'));
    for (const [i, h] of c.hosts.entries())
      if (ISSUE25_TABLES.some((t) => !saved[i]!.includes(`table ${t} {`))) throw new Error(`${h.name} lacks a table`);
    const filters = (on: boolean) => () => {
      for (const [i, h] of c.hosts.entries()) {
        for (const t of ISSUE25_TABLES) nftTry(h, ['delete', 'table', ...t.split(' ')]);
        if (on) nft(h, ['-f', '-'], saved[i]);
      }
    };
    const toggled = await measure('with and without the port guard, isolation and VXLAN filter', [
      { name: 'host-to-host', server: h2, client: h1, ip: h2.ip },
      { name: 'with', server: p2.ns, client: p1.ns, ip: p2.ip, before: filters(true) },
      { name: 'without', server: p2.ns, client: p1.ns, ip: p2.ip, before: filters(false) },
    ]);
    filters(true)();

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
        row('host-to-host (underlay), issue 25 run', toggled.get('host-to-host')!, toggled.get('host-to-host')!),
        row("pod-to-pod, weft's filter tables (issue 25)", toggled.get('with')!, toggled.get('host-to-host')!),
        row('pod-to-pod, those tables removed', toggled.get('without')!, toggled.get('host-to-host')!),
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
