/**
 * `npm run demo`: the main job until the lab lands. Builds three simulated hosts on one underlay, a VXLAN
 * device on each, and flannel's per-peer entries (ARP, FDB, onlink route) for every other host, all through
 * weft's kernel layer; puts a pod behind each host and pings every pod from every other pod. Removes
 * everything it made, also when interrupted. Run as root.
 */
import { execFileSync } from 'node:child_process';
import { Sim, destroyByPrefix, type SimHost, type SimNs } from '../pkg/sim/mod.ts';

const PREFIX = 'weft-demo-';
const HOSTS = [1, 2, 3];
const vtepMac = (n: number) => `02:77:65:66:74:0${n}`;

function ping(from: SimNs, to: string): { ok: boolean; rtt: string } {
  try {
    const out = execFileSync('ip', ['netns', 'exec', from.name, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-q', to], { encoding: 'utf8' });
    return { ok: true, rtt: /= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? '?' };
  } catch {
    return { ok: false, rtt: '-' };
  }
}

async function vtep(h: SimHost): Promise<number> {
  const vx = await h.nl.addVxlan({ name: 'flannel.1', vni: 1, local: h.ip, dev: h.uplink.index, learning: false, mtu: h.uplink.mtu - 50, mac: vtepMac(h.n) });
  await h.nl.addAddr({ index: vx.index, cidr: `10.244.${h.n}.0/32` });
  await h.nl.setUp(vx.index);
  return vx.index;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the demo creates network namespaces');
  destroyByPrefix(PREFIX);
  const sim = new Sim(PREFIX);
  const stop = () => {
    sim.destroy();
    process.exit(130);
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    console.log('weft demo: 3 simulated hosts on an underlay (192.0.2.0/24), VXLAN overlay 10.244.0.0/16 programmed through weft\'s kernel layer\n');
    const hosts = await Promise.all(HOSTS.map((n) => sim.addHost(n)));
    const vteps = new Map<number, number>();
    for (const h of hosts) vteps.set(h.n, await vtep(h));
    for (const self of hosts) {
      const vx = vteps.get(self.n)!;
      for (const peer of hosts.filter((p) => p !== self)) {
        await self.nl.setNeigh({ index: vx, ip: `10.244.${peer.n}.0`, mac: vtepMac(peer.n) });
        await self.nl.replaceFdb({ index: vx, mac: vtepMac(peer.n), dst: peer.ip });
        await self.nl.replaceRoute({ dst: `10.244.${peer.n}.0/24`, gateway: `10.244.${peer.n}.0`, oif: vx, onlink: true });
      }
    }
    const pods = await Promise.all(hosts.map((h) => sim.addPod(h, { name: `pod${h.n}`, bridge: 'cni0', gateway: `10.244.${h.n}.1/24`, address: `10.244.${h.n}.2/24` })));
    for (const h of hosts) console.log(`  host h${h.n}  underlay ${h.ip}  VTEP flannel.1 ${vtepMac(h.n)} 10.244.${h.n}.0/32  pod 10.244.${h.n}.2`);
    console.log('\n  check                           result  avg rtt');
    let failed = 0;
    for (const [i, from] of pods.entries()) {
      for (const [j] of pods.entries()) {
        if (i === j) continue;
        const r = ping(from, `10.244.${HOSTS[j]}.2`);
        if (!r.ok) failed++;
        console.log(`  pod on h${HOSTS[i]} -> pod on h${HOSTS[j]}        ${r.ok ? 'ok    ' : 'FAILED'}  ${r.rtt} ms`);
      }
    }
    console.log(failed === 0 ? '\nall checks passed; removing the demo namespaces' : `\n${failed} check(s) failed`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    sim.destroy();
  }
}

main().catch((e) => {
  console.error(`weft demo: ${(e as Error).message}`);
  process.exitCode = 1;
});
