/**
 * A dual-stack default network (issue 15) on hosts with an IPv6 underlay: flannel's dual-stack key and lease
 * JSON, FLANNEL_IPV6_* in the subnet file, flannel-v6.1 over the IPv6 underlay with each peer's IPv6 triple,
 * pods with both families (from the CNI plugin) talking across hosts over both, ip6 masquerade, and the IPv6
 * subnet kept across a restart.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import type { Check } from '../../pkg/doctor/mod.ts';
import { bridgeJson, inNetns, ipJson, ping, run } from '../helpers/sh.ts';
import { weftOn } from '../helpers/weft-cli.ts';

const DUAL = { Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fc00::/48', Backend: { Type: 'vxlan' } };

type LinkJson = Array<{ address: string; mtu: number; linkinfo: { info_data: Record<string, unknown> } }>;

describe('a dual-stack network', () => {
  it('leases both halves under one key, programs flannel-v6.1 per peer, and pods talk over IPv4 and IPv6', async () => {
    const c = await testCluster('ds', { config: DUAL, ipv6: true });
    await c.addHost(1, ['--ip-masq']);
    await c.addHost(2, ['--ip-masq']);
    await c.startAll();
    const [e1, e2] = [c.daemon(1).subnetEnv(), c.daemon(2).subnetEnv()];
    // The pods' MTU leaves room for IPv6 outer headers (1500 - 70), the smaller of the two VTEPs'.
    expect(e1).toMatchObject({ networks: ['10.244.0.0/16'], ipv6Networks: ['fc00::/48'], mtu: 1430 });
    expect(e1.extra).toMatchObject({ WEFT_VXLAN_DEVICE: 'flannel.1', WEFT_VXLAN_DEVICE_V6: 'flannel-v6.1' });
    expect(e1.ipv6Subnet).toMatch(/^fc00:0:0:[0-9a-f]{1,4}::\/64$/);
    expect(e1.ipv6Subnet).not.toBe(e2.ipv6Subnet);

    // flannel's dual-stack key, and its lease JSON with PublicIPv6 and BackendV6Data
    const h1 = c.hosts[0]!.name;
    const key1 = `${c.prefix}/subnets/${e1.subnet!.replace('/', '-')}&${e1.ipv6Subnet!.replace('/', '-')}`;
    const kv = (await c.etcd.client.getPrefix(key1)).kvs[0]!;
    const mac = ipJson<LinkJson>(h1, ['link', 'show', 'flannel.1'])[0]!.address;
    const mac6 = ipJson<LinkJson>(h1, ['link', 'show', 'flannel-v6.1'])[0]!.address;
    expect(kv.value.toString()).toBe(
      '{"PublicIP":"192.0.2.1","PublicIPv6":"2001:db8::1","BackendType":"vxlan",' +
        `"BackendData":{"VNI":1,"VtepMAC":"${mac}"},"BackendV6Data":{"VNI":1,"VtepMAC":"${mac6}"}}`,
    );

    // flannel-v6.1: over the IPv6 underlay, MTU 1430, <v6 subnet>::/128
    const dev6 = ipJson<LinkJson>(h1, ['link', 'show', 'flannel-v6.1'], true)[0]!;
    expect(dev6.mtu).toBe(1430);
    expect(dev6.linkinfo.info_data).toMatchObject({ id: 1, local6: '2001:db8::1', link: 'eth0', learning: false });
    const addrs6 = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(h1, ['-6', 'addr', 'show', 'flannel-v6.1']);
    expect(addrs6[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain(`${e1.ipv6Subnet!.split('/')[0]}/128`);
    expect(ipJson<LinkJson>(h1, ['link', 'show', 'flannel.1'])[0]!.mtu).toBe(1450);

    // host 1 holds host 2's IPv6 triple on flannel-v6.1
    const gw6 = e2.ipv6Subnet!.split('/')[0]!;
    const peerMac6 = ipJson<LinkJson>(c.hosts[1]!.name, ['link', 'show', 'flannel-v6.1'])[0]!.address;
    await eventually('host 1 programs host 2 over IPv6', () => ipJson(h1, ['-6', 'route', 'show', e2.ipv6Subnet!]).length === 1);
    expect(ipJson(h1, ['-6', 'route', 'show', e2.ipv6Subnet!])).toEqual([
      expect.objectContaining({ gateway: gw6, dev: 'flannel-v6.1', flags: ['onlink'] }),
    ]);
    expect(ipJson(h1, ['-6', 'neigh', 'show', 'dev', 'flannel-v6.1', gw6])).toEqual([
      expect.objectContaining({ lladdr: peerMac6, state: ['PERMANENT'] }),
    ]);
    expect(bridgeJson(h1, ['fdb', 'show', 'dev', 'flannel-v6.1'])).toEqual(
      expect.arrayContaining([expect.objectContaining({ mac: peerMac6, dst: '2001:db8::2' })]),
    );

    // pods with both families, reaching each other over both; a full-size IPv6 packet crosses whole
    const a = await c.pod(1, 'pa');
    const b = await c.pod(2, 'pb');
    expect(a.ip6).toMatch(new RegExp(`^${e1.ipv6Subnet!.split('::')[0]}::`));
    expect(ipJson(a.ns.name, ['-6', 'route', 'show', 'default'])).toEqual([
      expect.objectContaining({ gateway: `${e1.ipv6Subnet!.split('/')[0]}1` }),
    ]);
    expect(ping(a.ns.name, b.ip)).toBe(true);
    // The first packets too: a new bridge or pod resolves IPv6 neighbours at once (noLinkLocalDad).
    expect(ping(a.ns.name, b.ip6!)).toBe(true);
    expect(ping(b.ns.name, a.ip6!)).toBe(true);
    expect(inNetns(a.ns.name, 'ping', ['-6', '-c', '1', '-W', '2', '-M', 'do', '-s', String(1430 - 48), b.ip6!]).ok).toBe(true);

    // ip6 masquerade beside ip's, as flanneld's nftables mode keeps flannel-ipv6 beside flannel-ipv4
    const table6 = run('ip', ['netns', 'exec', h1, 'nft', 'list', 'table', 'ip6', 'weft_default']);
    expect(table6).toContain(`ip6 saddr fc00::/48 ip6 daddr != ff00::/8 masquerade`);
    // An outside IPv6 host with no route back to the pods answers them only through the masquerade.
    const outside = await c.sim.addHost(9, { ipv6: true });
    expect(ipJson(outside.name, ['-6', 'route', 'show', 'default'])).toEqual([]);
    expect(ping(a.ns.name, outside.ip6!)).toBe(true);
    expect(run('ip', ['netns', 'exec', h1, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding']).trim()).toBe('1');

    // doctor checks both VTEPs and their peers' entries; a deleted IPv6 route is put back
    const checks = JSON.parse(weftOn(c, 1, ['doctor', '--json', '--network', 'default']).stdout) as Check[];
    const devices = checks.filter((k) => k.check === 'vxlan-device' || k.check === 'peers' || k.check === 'bridge');
    expect(devices.map((k) => `${k.status} ${k.check} ${k.detail.split(':')[0]}`).sort()).toEqual([
      'ok bridge cni0',
      'ok peers flannel-v6.1',
      'ok peers flannel.1',
      'ok vxlan-device flannel-v6.1',
      'ok vxlan-device flannel.1',
    ]);
    run('ip', ['-n', h1, '-6', 'route', 'del', e2.ipv6Subnet!]);
    await eventually('the IPv6 route is repaired', () => ipJson(h1, ['-6', 'route', 'show', e2.ipv6Subnet!]).length === 1);
    // the IPv6 VTEP deleted: made again with its MAC, address and peers
    run('ip', ['-n', h1, 'link', 'del', 'flannel-v6.1']);
    await eventually('flannel-v6.1 is back with its peer', () => ipJson(h1, ['-6', 'route', 'show', e2.ipv6Subnet!]).length === 1);
    expect(ipJson<LinkJson>(h1, ['link', 'show', 'flannel-v6.1'])[0]!.address).toBe(mac6);
    expect(ping(a.ns.name, b.ip6!)).toBe(true);

    // a restart keeps the key: both subnets come back from the subnet file and the lease
    c.daemon(1).kill();
    c.daemon(1).start();
    await c.daemon(1).ready();
    expect(c.daemon(1).subnetEnv()).toMatchObject({ subnet: e1.subnet, ipv6Subnet: e1.ipv6Subnet });
    const keys = (await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).kvs.map((k) => k.key.toString());
    expect(keys).toContain(key1);
    expect(keys).toHaveLength(2);
    expect(ping(b.ns.name, a.ip6!)).toBe(true);

    // DirectRouting: a peer on this host's IPv6 underlay subnet is reached by a plain route via its address
    for (const d of c.daemons) await d.stop();
    await c.putConfig({ ...DUAL, Backend: { Type: 'vxlan', DirectRouting: true } });
    await c.startAll();
    await eventually('a direct IPv6 route', () =>
      ipJson<Array<{ gateway?: string; dev?: string }>>(h1, ['-6', 'route', 'show', e2.ipv6Subnet!]).some(
        (r) => r.gateway === '2001:db8::2' && r.dev === 'eth0',
      ),
    );
    expect(ping(a.ns.name, b.ip6!)).toBe(true);
  });

  it('an IPv6-only default network is refused, not ready, saying why and what to use instead', async () => {
    const config = { EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fc00::/48', Backend: { Type: 'vxlan' } };
    const c = await testCluster('d6', { config, ipv6: true, hosts: 1 });
    c.daemon(1).start();
    const reason = () => {
      const r = c.daemon(1).http('/status');
      return r.ok ? (JSON.parse(r.body) as Array<{ ready: boolean; reason?: string }>)[0]?.reason : undefined;
    };
    await eventually('the reason is given', () => reason()?.includes('IPv6-only (EnableIPv4 false) is not served') === true);
    expect(reason()).toContain('weft network create --ipv6');
    expect((await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).kvs).toEqual([]);
  });
});
