import { describe, expect, it } from 'vitest';
import { Netlink } from '../../pkg/kernel/mod.ts';
import { addUplink, defer, ifname, makeNetns } from '../helpers/netns.ts';
import { ipJson } from '../helpers/sh.ts';

interface IpLink {
  ifname: string;
  ifindex: number;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  link?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}

const ipLink = (ns: string, dev: string) => ipJson<IpLink[]>(ns, ['link', 'show', 'dev', dev], true)[0]!;

function handle(ns: ReturnType<typeof makeNetns>): Netlink {
  const h = Netlink.open({ netns: ns.ns });
  defer(() => h.close());
  return h;
}

describe('Netlink links', () => {
  it('addVeth() creates the peer directly inside the target namespace under its final name', async () => {
    const host = makeNetns('lh');
    const cont = makeNetns('lc');
    const h = handle(host);
    const name = ifname('vh');
    const link = await h.addVeth({ name, mtu: 1400, peer: { name: 'eth0', netns: cont.ns, mtu: 1400, mac: '02:42:0a:0a:0a:02' } });

    expect(link).toMatchObject({ name, kind: 'veth', mtu: 1400 });
    const peer = ipLink(cont.name, 'eth0');
    expect(peer).toMatchObject({ mtu: 1400, address: '02:42:0a:0a:0a:02', linkinfo: { info_kind: 'veth' } });
    expect(ipJson(host.name, ['link', 'show', 'dev', name])[0]).toMatchObject({ ifindex: link.index });
    // The host end records the peer's ifindex, in the peer's namespace.
    const c = handle(cont);
    expect(link.parentIndex).toBe((await c.getLink('eth0')).index);
  });

  it('addBridge() and addVxlan() create links whose typed attributes match `ip -d link`', async () => {
    const host = makeNetns('lb');
    const h = handle(host);
    const under = await addUplink(h, 'under0');
    await h.addAddr({ index: under.index, cidr: '192.0.2.10/24' });
    const br = await h.addBridge({ name: 'cni0', mtu: 1450 });
    expect(br).toMatchObject({ kind: 'bridge', mtu: 1450 });

    const vx = await h.addVxlan({
      name: 'flannel.1',
      vni: 1,
      local: '192.0.2.10',
      dev: under.index,
      learning: false,
      ttl: 0,
      mtu: 1450,
      mac: 'c6:d2:32:6f:8f:44',
    });
    expect(vx.vxlan).toMatchObject({ vni: 1, local: '192.0.2.10', dev: under.index, learning: false, ttl: 0 });
    const data = ipLink(host.name, 'flannel.1').linkinfo!.info_data!;
    expect(data).toMatchObject({ id: 1, local: '192.0.2.10', link: 'under0', learning: false, port: 8472 });
    expect(ipLink(host.name, 'flannel.1')).toMatchObject({ address: 'c6:d2:32:6f:8f:44', mtu: 1450 });
    // The kernel's default port is reported back when none was sent.
    expect((await h.getLink('flannel.1')).vxlan?.port).toBe(8472);

    const vx2 = await h.addVxlan({ name: 'vx4789', vni: 256, port: 4789, learning: true, ttl: 64 });
    expect(vx2.vxlan).toMatchObject({ vni: 256, port: 4789, learning: true, ttl: 64 });
    expect(ipLink(host.name, 'vx4789').linkinfo!.info_data).toMatchObject({ id: 256, port: 4789, learning: true, ttl: 64 });
  });

  it('setLink() changes MTU, MAC, up/down, master, name and hairpin; getLink() and listLinks() see it', async () => {
    const host = makeNetns('ls');
    const cont = makeNetns('lt');
    const h = handle(host);
    const br = await h.addBridge({ name: 'br0' });
    const v = await h.addVeth({ name: 'vtmp', peer: { name: 'eth0', netns: cont.ns } });

    await h.setLink({ index: v.index, mtu: 1300, mac: '02:00:00:00:00:aa', name: 'vhost' });
    await h.setMaster(v.index, br.index);
    await h.setUp(v.index);
    await h.setLink({ index: v.index, hairpin: true });

    const ip = ipLink(host.name, 'vhost');
    expect(ip).toMatchObject({ mtu: 1300, address: '02:00:00:00:00:aa', master: 'br0' });
    expect(ip.flags).toContain('UP');
    expect(ip.linkinfo?.info_slave_data).toMatchObject({ hairpin: true });

    const got = await h.getLink(v.index);
    expect(got).toMatchObject({ name: 'vhost', mtu: 1300, master: br.index, up: true, bridgePort: { hairpin: true } });
    expect((await h.listLinks()).map((l) => l.name).sort()).toEqual(['br0', 'lo', 'vhost']);

    await h.setMaster(v.index, 0);
    await h.setDown(v.index);
    const after = ipLink(host.name, 'vhost');
    expect(after.master).toBeUndefined();
    expect(after.flags).not.toContain('UP');
  });

  it('moveToNetns() moves a link and deleteLink() removes it; deleting again reports ENODEV', async () => {
    const a = makeNetns('ma');
    const b = makeNetns('mb');
    const h = handle(a);
    // A bridge is netns-local; a veth end can move.
    const d = await h.addVeth({ name: 'br9', peer: { name: 'br9p' } });
    await expect(h.moveToNetns((await h.addBridge({ name: 'brx' })).index, b.ns)).rejects.toMatchObject({ errnoName: 'EINVAL' });
    await h.moveToNetns(d.index, b.ns);
    expect(ipJson(a.name, ['link', 'show']).map((l) => l.ifname)).not.toContain('br9');
    const hb = handle(b);
    expect(ipJson(b.name, ['link', 'show']).map((l) => l.ifname)).toContain('br9');
    await hb.deleteLink('br9');
    expect(ipJson(b.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(ipJson(a.name, ['link', 'show']).map((l) => l.ifname)).not.toContain('br9p');
    await expect(hb.deleteLink('br9')).rejects.toMatchObject({ code: 'WEFT_KERNEL', errnoName: 'ENODEV', op: 'delete' });
  });
});
