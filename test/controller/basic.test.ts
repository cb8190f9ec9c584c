/**
 * The daemon against a real etcd: leases in flannel's exact schema, the subnet file, the VTEP, flannel's
 * per-peer kernel entries, and pods (attached by the CNI plugin) talking across hosts.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { bridgeJson, inNetns, ipJson, ping } from '../helpers/sh.ts';

describe('weft daemon, two hosts', () => {
  it("leases distinct subnets, writes flannel's subnet file and lease JSON, programs each peer, and pods talk", async () => {
    const c = await testCluster('cb', { hosts: 2 });
    await c.startAll();
    const [e1, e2] = [c.daemon(1).subnetEnv(), c.daemon(2).subnetEnv()];
    expect(e1).toMatchObject({ networks: ['10.244.0.0/16'], mtu: 1450, ipMasq: false, extra: { WEFT_VXLAN_DEVICE: 'flannel.1' } });
    expect(e1.subnet).not.toBe(e2.subnet);

    // etcd holds flannel's keys and exact JSON, each key on a 24 h etcd lease
    const kvs = (await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).kvs;
    expect(kvs.map((kv) => kv.key.toString()).sort()).toEqual(
      [e1.subnet!, e2.subnet!].map((s) => `${c.prefix}/subnets/${s.replace('/', '-')}`).sort(),
    );
    const link1 = ipJson<Array<{ address: string; mtu: number }>>(c.hosts[0]!.name, ['link', 'show', 'flannel.1'])[0]!;
    const mine = kvs.find((kv) => kv.key.toString().endsWith(e1.subnet!.replace('/', '-')))!;
    expect(mine.value.toString()).toBe(
      `{"PublicIP":"192.0.2.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${link1.address}"}}`,
    );
    const ttl = await c.etcd.client.leaseTimeToLive(mine.lease);
    expect(ttl).toBeGreaterThan(86_000);

    // the VTEP: nolearning, local = underlay address, dev eth0, MTU 1450, <subnet>.0/32
    const dev = ipJson<Array<{ mtu: number; linkinfo: { info_data: Record<string, unknown> }; addr_info?: unknown }>>(
      c.hosts[0]!.name,
      ['link', 'show', 'flannel.1'],
      true,
    )[0]!;
    expect(dev.mtu).toBe(1450);
    expect(dev.linkinfo.info_data).toMatchObject({ id: 1, local: '192.0.2.1', link: 'eth0', learning: false, port: 8472 });
    expect(
      ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(c.hosts[0]!.name, [
        'addr',
        'show',
        'flannel.1',
      ])[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
    ).toContain(`${e1.subnet!.split('/')[0]}/32`);

    // host 1 holds flannel's triple for host 2
    const peerGw = e2.subnet!.split('/')[0]!;
    const mac2 = ipJson<Array<{ address: string }>>(c.hosts[1]!.name, ['link', 'show', 'flannel.1'])[0]!.address;
    await eventually('host 1 programs host 2', () => ipJson(c.hosts[0]!.name, ['route', 'show', e2.subnet!]).length === 1);
    expect(ipJson(c.hosts[0]!.name, ['route', 'show', e2.subnet!])).toEqual([
      expect.objectContaining({ gateway: peerGw, dev: 'flannel.1', flags: ['onlink'] }),
    ]);
    expect(ipJson(c.hosts[0]!.name, ['neigh', 'show', 'dev', 'flannel.1'])).toEqual([
      expect.objectContaining({ dst: peerGw, lladdr: mac2, state: ['PERMANENT'] }),
    ]);
    expect(bridgeJson(c.hosts[0]!.name, ['fdb', 'show', 'dev', 'flannel.1'])).toEqual([
      expect.objectContaining({ mac: mac2, dst: '192.0.2.2', flags: ['self'], state: 'permanent' }),
    ]);

    // pods attached by the CNI plugin reach each other across hosts, by ICMP and TCP
    const a = await c.pod(1, 'pa');
    const b = await c.pod(2, 'pb');
    expect(ping(a.ns.name, b.ip)).toBe(true);
    expect(ping(b.ns.name, a.ip)).toBe(true);
    expect(c.daemon(1).http('/healthz')).toEqual({ ok: true, body: 'weft is running\n' });
    const status = JSON.parse(c.daemon(1).http('/status').body) as Array<{ ready: boolean; peers: number; subnet: string }>;
    expect(status).toEqual([expect.objectContaining({ ready: true, peers: 1, subnet: e1.subnet })]);
    void inNetns;
  });
});
