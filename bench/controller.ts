/**
 * Controller benchmarks, in one simulated cluster (one host running `weft daemon`, a real etcd):
 *
 *   convergence  time from a remote lease PUT to its route, neighbour and FDB entry existing on the host,
 *                p50/p99 over N leases, next to the time etcd takes to deliver the same PUT to a watcher in
 *                this process (the floor any etcd-driven controller sits on), as a ratio;
 *   burst        1,000 leases written at once, until all are programmed;
 *   scale        5,000 remote leases: daemon RSS and CPU while programming them and at rest, and the time
 *                of a resync pass with nothing to change;
 *   floor        the same 15,000 entries through one netlink socket in a loop (floor.ts), in the same run: the
 *                kernel's own cost, which the scale phase is a ratio to; and etcd's: when the last of the
 *                leases reached a watcher in this process (weft cannot program a lease it was not sent).
 *
 * In the convergence phase kernel entries are timestamped from netlink notifications (RTNLGRP_IPV4_ROUTE,
 * RTNLGRP_NEIGH) received in the host's namespace, not by polling; the burst and scale phases, whose thousands
 * of notifications would overflow a socket buffer, count entries with dumps every 20 ms instead.
 * Run as root after `npm run build`:  npm run bench:controller
 */
import { performance } from 'node:perf_hooks';
import { Netlink } from '../pkg/kernel/mod.ts';
import { decodeNeigh } from '../pkg/rtnl/neigh.ts';
import { decodeRoute } from '../pkg/rtnl/route.ts';
import { RTM } from '../pkg/rtnl/constants.ts';
import { waitFor } from '../pkg/sim/mod.ts';
import { benchCluster, PREFIX } from './cluster.ts';
import { ms, percentile, table } from '../pkg/measure/mod.ts';
import { lease, leaseKey, mac, putLeases, subnet } from './leases.ts';
import { procStats } from '../pkg/measure/mod.ts';
import { kernelFloor } from './floor.ts';

const key = (i: number) => leaseKey(PREFIX, i);

const N = Number(process.argv[2] ?? 100);
const BURST = 1000;
const SCALE = 5000;
const RTNLGRP_NEIGH = 3;
const RTNLGRP_IPV4_ROUTE = 7;

async function main(): Promise<void> {
  const floor = await kernelFloor(SCALE);
  const { c, stop } = await benchCluster('ctl', { Network: '10.0.0.0/8', SubnetLen: 24, Backend: { Type: 'vxlan' } });
  try {
    const d = await c.addHost(1, ['--resync-period=10']);
    await c.startAll();
    const pid = d.pid!;
    const startRss = procStats(pid).rssMiB;

    // Kernel notifications from host 1's namespace: first time each subnet's route, neighbour and FDB entry appear.
    const nl = Netlink.open({ netns: c.hosts[0]!.netns });
    const seen = new Map<string, { route?: number; neigh?: number; fdb?: number }>();
    const at = (k: string) => {
      if (!seen.has(k)) seen.set(k, {});
      return seen.get(k)!;
    };
    nl.socket.subscribe(RTNLGRP_IPV4_ROUTE);
    nl.socket.subscribe(RTNLGRP_NEIGH);
    nl.socket.onNotification = (m) => {
      const now = performance.now();
      if (m.type === RTM.NEWROUTE) {
        const r = decodeRoute(m.payload);
        if (r?.dst.startsWith('10.') && at(r.dst).route === undefined) at(r.dst).route = now;
      } else if (m.type === RTM.NEWNEIGH) {
        const n = decodeNeigh(m.payload);
        if (n?.kind === 'neigh' && at(`${n.neigh.ip}/24`).neigh === undefined) at(`${n.neigh.ip}/24`).neigh = now;
        if (n?.kind === 'fdb') for (const [k, v] of seen) if (v.fdb === undefined && k === `mac:${n.fdb.mac}`) v.fdb = now;
        if (n?.kind === 'fdb' && !seen.has(`mac:${n.fdb.mac}`)) seen.set(`mac:${n.fdb.mac}`, { fdb: now });
      }
    };
    const complete = (i: number) => {
      const s = seen.get(subnet(i));
      const f = seen.get(`mac:${mac(i)}`)?.fdb;
      return s?.route !== undefined && s.neigh !== undefined && f !== undefined ? Math.max(s.route, s.neigh, f) : undefined;
    };

    // The floor: etcd delivering a PUT to a watcher in this process.
    const watchSeen = new Map<string, number>();
    const rev = (await c.etcd.client.getPrefix(`${PREFIX}/subnets/`)).revision;
    const watcher = await c.etcd.client.watchPrefix(`${PREFIX}/subnets/`, String(BigInt(rev) + 1n), {
      events: (evs) => {
        for (const ev of evs) if (ev.type === 'put') watchSeen.set(ev.kv.key, performance.now());
      },
      end: () => {},
    });

    const weft: number[] = [];
    const etcdOnly: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await c.etcd.client.put(key(i), lease(i));
      const done = await waitFor(`lease ${i} programmed`, () => complete(i), 10_000, 1);
      const w = await waitFor(`lease ${i} watched`, () => watchSeen.get(key(i)), 10_000, 1);
      weft.push(done - t0);
      etcdOnly.push(w - t0);
    }
    const sw = [...weft].sort((a, b) => a - b);
    const se = [...etcdOnly].sort((a, b) => a - b);

    nl.close();
    // From here on, count what the kernel holds (three dumps) instead of following notifications.
    const probe = Netlink.open({ netns: c.hosts[0]!.netns });
    const vx = (await probe.getLink('flannel.1')).index;
    const programmed = async () => {
      const [routes, neighs, fdb] = [
        await probe.listRoutes({ family: 4, oif: vx }),
        await probe.listNeighs({ index: vx, family: 4 }),
        await probe.listFdb({ index: vx }),
      ];
      return Math.min(routes.length, neighs.filter((n) => n.permanent).length, fdb.filter((f) => f.dst !== undefined).length);
    };

    // Burst: 1,000 leases at once.
    const b0 = performance.now();
    await putLeases(c, N, N + BURST, 100);
    const written = performance.now() - b0;
    const burstDone = await waitFor(
      'the burst programmed',
      async () => ((await programmed()) >= N + BURST ? performance.now() : undefined),
      120_000,
      20,
    );

    // Scale: 5,000 remote leases in all.
    const cpu0 = procStats(pid);
    const s0 = performance.now();
    await putLeases(c, N + BURST, SCALE);
    await waitFor('5,000 peers programmed', async () => (await programmed()) >= SCALE, 300_000, 20);
    const scaleMs = performance.now() - s0;
    // The other floor: weft cannot program a lease before etcd delivers it; when did the last one reach a watcher?
    const delivered = await waitFor(
      'every lease delivered to the watcher',
      () => {
        let last = 0;
        for (let i = N + BURST; i < SCALE; i++) {
          const t = watchSeen.get(key(i));
          if (t === undefined) return undefined;
          last = Math.max(last, t);
        }
        return last - s0;
      },
      60_000,
      20,
    );
    const cpu1 = procStats(pid);
    // At rest: ten resync periods (the tenth resync dumps the kernel in full), nobody asking the daemon anything.
    const idle0 = procStats(pid);
    const i0 = performance.now();
    await new Promise((r) => setTimeout(r, 10 * 10_000));
    const idle1 = procStats(pid);
    const idleSec = (performance.now() - i0) / 1000;
    // Resync passes with nothing to change: ask the daemon's status after each.
    const reconciles: number[] = [];
    for (let k = 0; k < 3; k++) {
      const before = JSON.parse(d.http('/status').body)[0].lastReconcile.at as string;
      await waitFor(
        'a periodic reconcile',
        () => {
          const st = JSON.parse(d.http('/status').body)[0].lastReconcile as { at: string; ms: number; applied: number };
          return st.at !== before && st.applied === 0 ? st.ms : undefined;
        },
        60_000,
        200,
      ).then((x) => reconciles.push(x));
    }
    probe.close();
    await watcher.cancel();

    console.log(`weft controller benchmark (1 host, real etcd; ${N} sequential leases, then a burst of ${BURST}, then ${SCALE} in all)\n`);
    console.log(
      table([
        ['convergence (lease PUT -> route + neighbour + FDB)', 'p50', 'p99', 'max'],
        ['weft daemon', ms(percentile(sw, 50)), ms(percentile(sw, 99)), ms(sw[sw.length - 1]!)],
        ['etcd watch delivery alone (floor)', ms(percentile(se, 50)), ms(percentile(se, 99)), ms(se[se.length - 1]!)],
      ]),
    );
    console.log(
      `ratio weft / etcd delivery: p50 ${(percentile(sw, 50) / percentile(se, 50)).toFixed(2)}, ` +
        `p99 ${(percentile(sw, 99) / percentile(se, 99)).toFixed(2)}`,
    );
    console.log(`\nburst: ${BURST} leases written in ${ms(written)}; all programmed ${ms(burstDone - b0)} after the first write`);
    console.log(
      `scale: ${SCALE} remote leases (${SCALE * 3} kernel entries) programmed in ${(scaleMs / 1000).toFixed(1)} s; ` +
        `CPU ${(cpu1.cpuSec - cpu0.cpuSec).toFixed(1)} s`,
    );
    console.log(
      `       kernel floor: the same ${floor.entries} entries through one netlink socket in a loop: ${(floor.ms / 1000).toFixed(1)} s; ` +
        `ratio ${(scaleMs / floor.ms).toFixed(2)}`,
    );
    console.log(
      `       etcd floor: the last of those leases reached a watcher in this process ${(delivered / 1000).toFixed(1)} s after the first ` +
        `write; ratio ${(scaleMs / delivered).toFixed(2)}`,
    );
    console.log(
      `       at rest: RSS ${idle1.rssMiB.toFixed(0)} MiB (${startRss.toFixed(0)} MiB with no peer), ` +
        `CPU ${(((idle1.cpuSec - idle0.cpuSec) / idleSec) * 100).toFixed(1)}% of a core over ${idleSec.toFixed(0)} s (a resync every 10 s)`,
    );
    console.log(`       resync passes with nothing to change: ${reconciles.map((x) => `${x} ms`).join(', ')}`);
  } finally {
    stop();
  }
}

main().catch((e) => {
  console.error(`bench/controller: ${(e as Error).message}`);
  process.exitCode = 1;
});
