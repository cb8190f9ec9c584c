/**
 * flannel's IPv6 data path built by hand through the kernel layer, over an IPv6 underlay (2001:db8::/64):
 * per host a `flannel-v6.1` VXLAN device whose local address is the host's IPv6 one, with the MTU left for
 * IPv6 outer headers (pkg/overlay/mtu.ts), and per remote host an NDP entry, an FDB entry to its IPv6 address
 * and an onlink route to its /64. The groundwork of issue 15: if IPv6 pods ping across, the kernel layer
 * encodes all of it.
 */
import { describe, expect, it } from 'vitest';
import { vtepMtu } from '../../pkg/overlay/mod.ts';
import type { SimHost, SimNs } from '../../pkg/sim/mod.ts';
import { bridgeJson, inNetns, ipJson, ping } from '../helpers/sh.ts';
import { makeSim } from '../helpers/topology.ts';

const MAC = (n: number) => `02:00:00:00:06:0${n}`;
const subnet = (n: number) => `fc00:0:0:${n}::`;

async function addVtep6(h: SimHost): Promise<number> {
  const vx = await h.nl.addVxlan({
    name: 'flannel-v6.1',
    vni: 1,
    local: h.ip6!,
    dev: h.uplink.index,
    learning: false,
    mtu: vtepMtu(h.uplink.mtu, 6),
    mac: MAC(h.n),
  });
  await h.nl.addAddr({ index: vx.index, cidr: `${subnet(h.n)}/128`, noDad: true });
  await h.nl.setUp(vx.index);
  return vx.index;
}

async function programPeer6(self: SimHost, vtep: number, peer: SimHost): Promise<void> {
  await self.nl.setNeigh({ index: vtep, ip: subnet(peer.n), mac: MAC(peer.n) });
  await self.nl.replaceFdb({ index: vtep, mac: MAC(peer.n), dst: peer.ip6! });
  await self.nl.replaceRoute({ dst: `${subnet(peer.n)}/64`, gateway: subnet(peer.n), oif: vtep, onlink: true });
}

/** An IPv6-only pod behind the host's bridge: fc00:0:0:<n>::2/64, default route via the bridge's ::1. */
async function addPod6(sim: ReturnType<typeof makeSim>, h: SimHost): Promise<SimNs> {
  const pod = await sim.namespace(`h${h.n}-p6`);
  const mtu = vtepMtu(h.uplink.mtu, 6);
  const br = await h.nl.addBridge({ name: 'cni0', mtu });
  await h.nl.addAddr({ index: br.index, cidr: `${subnet(h.n)}1/64`, noDad: true });
  await h.nl.setUp(br.index);
  const veth = await h.nl.addVeth({ name: 'vp6', mtu, peer: { name: 'eth0', netns: pod.netns, mtu } });
  await h.nl.setMaster(veth.index, br.index);
  await h.nl.setUp(veth.index);
  const eth0 = await pod.nl.getLink('eth0');
  await pod.nl.addAddr({ index: eth0.index, cidr: `${subnet(h.n)}2/64`, noDad: true });
  await pod.nl.setUp(eth0.index);
  await pod.nl.addRoute({ dst: '::/0', gateway: `${subnet(h.n)}1` });
  return pod;
}

describe('VXLAN over an IPv6 underlay, programmed through the kernel layer', () => {
  it("IPv6 pods behind two hosts reach each other through flannel-v6.1; removing the peer's entries cuts them off", async () => {
    const sim = makeSim('v6');
    const a = await sim.addHost(1, { ipv6: true });
    const b = await sim.addHost(2, { ipv6: true });
    expect(ping(a.name, b.ip6!)).toBe(true);

    const va = await addVtep6(a);
    const vb = await addVtep6(b);
    await programPeer6(a, va, b);
    await programPeer6(b, vb, a);
    const podA = await addPod6(sim, a);
    const podB = await addPod6(sim, b);

    expect(ipJson(a.name, ['-6', 'neigh', 'show', 'dev', 'flannel-v6.1', subnet(2)])).toEqual([
      expect.objectContaining({ lladdr: MAC(2), state: ['PERMANENT'] }),
    ]);
    expect(bridgeJson(a.name, ['fdb', 'show', 'dev', 'flannel-v6.1'])).toEqual(
      expect.arrayContaining([expect.objectContaining({ mac: MAC(2), dst: b.ip6 })]),
    );
    expect(ipJson(a.name, ['-6', 'route', 'show', `${subnet(2)}/64`])).toEqual([
      expect.objectContaining({ gateway: subnet(2), dev: 'flannel-v6.1', flags: ['onlink'] }),
    ]);
    const link = ipJson<Array<{ mtu: number; linkinfo: { info_data: { local6: string } } }>>(
      a.name,
      ['link', 'show', 'flannel-v6.1'],
      true,
    )[0]!;
    expect(link.mtu).toBe(1430);
    expect(link.linkinfo.info_data.local6).toBe(a.ip6);

    expect(ping(podA.name, `${subnet(2)}2`, { count: 2 })).toBe(true);
    expect(ping(podB.name, `${subnet(1)}2`)).toBe(true);
    // A full-size packet (1430 - 40 IPv6 - 8 ICMPv6 = 1382 bytes of payload, DF) crosses whole: with flannel's
    // 50-byte allowance the VTEP would take 1450, and its encapsulated packets would outgrow a 1500 underlay.
    expect(inNetns(podA.name, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', '1382', `${subnet(2)}2`]).ok).toBe(true);

    await a.nl.deleteRoute({ dst: `${subnet(2)}/64` });
    await a.nl.deleteFdb({ index: va, mac: MAC(2), dst: b.ip6! });
    await a.nl.deleteNeigh({ index: va, ip: subnet(2) });
    expect(ping(podA.name, `${subnet(2)}2`, { timeoutSec: 1 })).toBe(false);
  });
});
