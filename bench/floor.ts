/**
 * The kernel's own floor for programming peers (issue 28): the same route, neighbour and FDB entry per lease
 * that the daemon writes, through one netlink socket in a plain loop (one request, wait for its ACK, the
 * next), in a namespace of its own with a bare VXLAN device. No etcd, no planning, no diff: what the daemon
 * costs above this is its own.
 */
import { performance } from 'node:perf_hooks';
import { createNamedNetns, deleteNamedNetns, Netlink } from '../pkg/kernel/mod.ts';
import { mac, publicIP, subnet } from './leases.ts';

export async function kernelFloor(n: number): Promise<{ ms: number; entries: number }> {
  const name = `weft-bench-floor-${Math.random().toString(36).slice(2, 6)}`;
  const netns = createNamedNetns(name);
  const nl = Netlink.open({ netns });
  try {
    // Without a loopback that is up, the kernel rejects an onlink gateway ("Nexthop has invalid gateway").
    await nl.setUp((await nl.getLink('lo')).index);
    const vx = await nl.addVxlan({ name: 'floor.1', vni: 1, port: 8472, learning: false });
    await nl.setUp(vx.index);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const gw = subnet(i).split('/')[0]!;
      await nl.setNeigh({ index: vx.index, ip: gw, mac: mac(i) });
      await nl.replaceFdb({ index: vx.index, mac: mac(i), dst: publicIP(i) });
      await nl.replaceRoute({ dst: subnet(i), gateway: gw, oif: vx.index, onlink: true });
    }
    return { ms: performance.now() - t0, entries: n * 3 };
  } finally {
    nl.close();
    deleteNamedNetns(name);
  }
}
