/**
 * flannel's data path built by hand through the kernel layer: per host a VXLAN device and, for each remote
 * host, one ARP entry, one FDB entry and one onlink route. If pods ping across, the kernel layer encodes all
 * of them correctly (the kernel would drop or misroute otherwise).
 */
import { describe, expect, it } from 'vitest';
import type { SimHost } from '../../pkg/sim/mod.ts';
import { makeSim } from '../helpers/topology.ts';
import { bridgeJson, ipJson, ping } from '../helpers/sh.ts';

const MAC = (n: number) => `02:00:00:00:01:0${n}`;

async function addVtep(h: SimHost): Promise<number> {
  const vx = await h.nl.addVxlan({
    name: 'flannel.1',
    vni: 1,
    local: h.ip,
    dev: h.uplink.index,
    learning: false,
    mtu: h.uplink.mtu - 50,
    mac: MAC(h.n),
  });
  await h.nl.addAddr({ index: vx.index, cidr: `10.244.${h.n}.0/32` });
  await h.nl.setUp(vx.index);
  return vx.index;
}

async function programPeer(self: SimHost, vtep: number, peer: SimHost): Promise<void> {
  await self.nl.setNeigh({ index: vtep, ip: `10.244.${peer.n}.0`, mac: MAC(peer.n) });
  await self.nl.replaceFdb({ index: vtep, mac: MAC(peer.n), dst: peer.ip });
  await self.nl.replaceRoute({ dst: `10.244.${peer.n}.0/24`, gateway: `10.244.${peer.n}.0`, oif: vtep, onlink: true });
}

describe('two hosts over VXLAN, programmed through the kernel layer', () => {
  it('pods behind each host reach each other; removing the peer entries cuts them off', async () => {
    const sim = makeSim('vx');
    const a = await sim.addHost(1);
    const b = await sim.addHost(2);
    expect(ping(a.name, b.ip)).toBe(true);

    const va = await addVtep(a);
    const vb = await addVtep(b);
    await programPeer(a, va, b);
    await programPeer(b, vb, a);
    const podA = await sim.addPod(a, { name: 'pa', bridge: 'cni0', gateway: '10.244.1.1/24', address: '10.244.1.2/24' });
    const podB = await sim.addPod(b, { name: 'pb', bridge: 'cni0', gateway: '10.244.2.1/24', address: '10.244.2.2/24' });

    // What iproute2 sees is exactly flannel's per-peer triple.
    expect(ipJson(a.name, ['neigh', 'show', 'dev', 'flannel.1', '10.244.2.0'])).toEqual([
      expect.objectContaining({ lladdr: MAC(2), state: ['PERMANENT'] }),
    ]);
    expect(bridgeJson(a.name, ['fdb', 'show', 'dev', 'flannel.1'])).toEqual(
      expect.arrayContaining([expect.objectContaining({ mac: MAC(2), dst: b.ip })]),
    );
    expect(ipJson(a.name, ['route', 'show', '10.244.2.0/24'])).toEqual([
      expect.objectContaining({ gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink'] }),
    ]);
    expect(ipJson<Array<{ mtu: number }>>(a.name, ['link', 'show', 'flannel.1'])[0]!.mtu).toBe(1450);

    expect(ping(podA.name, '10.244.2.2', { count: 2 })).toBe(true);
    expect(ping(podB.name, '10.244.1.2')).toBe(true);
    // Host to remote pod uses the VTEP's /32 as source.
    expect(ping(a.name, '10.244.2.2')).toBe(true);

    await a.nl.deleteRoute({ dst: '10.244.2.0/24' });
    await a.nl.deleteFdb({ index: va, mac: MAC(2), dst: b.ip });
    await a.nl.deleteNeigh({ index: va, ip: '10.244.2.0' });
    expect(ping(podA.name, '10.244.2.2', { timeoutSec: 1 })).toBe(false);
  });
});
