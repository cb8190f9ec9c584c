/**
 * A mixed cluster: host 2 is built by hand the way flanneld (vxlan backend, etcd mode) and its CNI
 * delegate would build it: a lease in flanneld's exact bytes on a 24 h etcd lease, flannel.1 made with
 * `ip`, the bridge and pod made with `ip`, and host 1's entries programmed with `ip neigh`/`bridge fdb`/
 * `ip route` from host 1's lease as flanneld reads it. Host 1 runs weft. Their pods reach each other; and
 * the same dual-stack (issue 15): flannel-v6.1 over the IPv6 underlay, the dual-stack key and lease JSON,
 * pods with both families reaching each other over both.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { flannelHost } from '../helpers/flannel-host.ts';
import { eventually } from '../helpers/daemon.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson, ping, run } from '../helpers/sh.ts';

describe('flannel interoperation', () => {
  it("a weft host and a host programmed as flanneld programs one reach each other's pods", async () => {
    const c = await testCluster('fi', { hosts: 1 });
    const { host: flannel, ipf, pod: pod2 } = await flannelHost(c, 2, 'fi-pod2');
    const f = flannel.name;

    // weft on host 1
    await c.startAll();
    const weftSubnet = c.daemon(1).subnetEnv().subnet!;
    await eventually('weft programs the flannel host', () => ipJson(c.hosts[0]!.name, ['route', 'show', '10.244.200.0/24']).length === 1);

    // flanneld on host 2 reads weft's lease (flannel's JSON) and programs its triple
    const kv = (await c.etcd.client.getPrefix(`${c.prefix}/subnets/${weftSubnet.replace('/', '-')}`)).kvs[0]!;
    const attrs = JSON.parse(kv.value.toString()) as {
      PublicIP: string;
      BackendType: string;
      BackendData: { VNI: number; VtepMAC: string };
    };
    expect(attrs).toMatchObject({ PublicIP: '192.0.2.1', BackendType: 'vxlan', BackendData: { VNI: 1 } });
    const gw = weftSubnet.split('/')[0]!;
    ipf('neigh', 'replace', gw, 'lladdr', attrs.BackendData.VtepMAC, 'dev', 'flannel.1', 'nud', 'permanent');
    run('bridge', ['-n', f, 'fdb', 'replace', attrs.BackendData.VtepMAC, 'dev', 'flannel.1', 'dst', attrs.PublicIP, 'self', 'permanent']);
    ipf('route', 'replace', weftSubnet, 'via', gw, 'dev', 'flannel.1', 'onlink');
    run('ip', ['netns', 'exec', f, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);

    const pod1 = await c.pod(1, 'fi-pod1');
    expect(ping(pod1.ns.name, '10.244.200.2', { count: 2 })).toBe(true);
    expect(ping(pod2.name, pod1.ip, { count: 2 })).toBe(true);
  });

  it("dual-stack: a weft host and a flanneld-programmed host reach each other's pods over IPv4 and IPv6", async () => {
    const config = { Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fc00::/48', Backend: { Type: 'vxlan' } };
    const c = await testCluster('fd', { hosts: 1, ipv6: true, config });
    const flannel = await c.sim.addHost(2, { ipv6: true });
    const f = flannel.name;
    const ipf = (...args: string[]) => run('ip', ['-n', f, ...args]);
    const [FMAC, FMAC6] = ['c6:d2:32:6f:8f:44', 'c6:d2:32:6f:8f:66'];
    const vxlan = (name: string, mac: string, mtu: string, local: string) =>
      ipf(
        'link',
        'add',
        name,
        'address',
        mac,
        'mtu',
        mtu,
        'type',
        'vxlan',
        'id',
        '1',
        'local',
        local,
        'dev',
        'eth0',
        'nolearning',
        'dstport',
        '8472',
      );

    // flanneld on host 2, dual-stack: both VTEPs, the dual-stack key, its lease JSON byte for byte
    vxlan('flannel.1', FMAC, '1450', '192.0.2.2');
    vxlan('flannel-v6.1', FMAC6, '1430', '2001:db8::2');
    ipf('addr', 'add', '10.244.200.0/32', 'dev', 'flannel.1');
    ipf('addr', 'add', 'fc00:0:0:c8::/128', 'dev', 'flannel-v6.1', 'nodad');
    ipf('link', 'set', 'flannel.1', 'up');
    ipf('link', 'set', 'flannel-v6.1', 'up');
    const grant = await c.etcd.client.leaseGrant(86400);
    await c.etcd.client.put(
      `${c.prefix}/subnets/10.244.200.0-24&fc00:0:0:c8::-64`,
      '{"PublicIP":"192.0.2.2","PublicIPv6":"2001:db8::2","BackendType":"vxlan",' +
        `"BackendData":{"VNI":1,"VtepMAC":"${FMAC}"},"BackendV6Data":{"VNI":1,"VtepMAC":"${FMAC6}"}}`,
      { lease: grant.id },
    );
    // flannel's CNI delegate (bridge + host-local with both ranges): cni0 with both gateways, a pod with both
    ipf('link', 'add', 'cni0', 'type', 'bridge');
    ipf('addr', 'add', '10.244.200.1/24', 'dev', 'cni0');
    ipf('addr', 'add', 'fc00:0:0:c8::1/64', 'dev', 'cni0', 'nodad');
    ipf('link', 'set', 'cni0', 'up');
    const pod2 = makeNetns('fd-pod2');
    ipf('link', 'add', 'vethf', 'mtu', '1430', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1430', 'netns', pod2.name);
    ipf('link', 'set', 'vethf', 'master', 'cni0', 'up');
    const ipp = (...args: string[]) => run('ip', ['-n', pod2.name, ...args]);
    ipp('addr', 'add', '10.244.200.2/24', 'dev', 'eth0');
    ipp('addr', 'add', 'fc00:0:0:c8::2/64', 'dev', 'eth0', 'nodad');
    ipp('link', 'set', 'eth0', 'up');
    ipp('route', 'add', 'default', 'via', '10.244.200.1');
    ipp('-6', 'route', 'add', 'default', 'via', 'fc00:0:0:c8::1');

    // weft on host 1 programs both of host 2's triples
    await c.startAll();
    const env = c.daemon(1).subnetEnv();
    const h1 = c.hosts[0]!.name;
    await eventually(
      'weft programs the flannel host over IPv6',
      () => ipJson(h1, ['-6', 'route', 'show', 'fc00:0:0:c8::/64']).length === 1,
    );
    expect(ipJson(h1, ['-6', 'route', 'show', 'fc00:0:0:c8::/64'])).toEqual([
      expect.objectContaining({ gateway: 'fc00:0:0:c8::', dev: 'flannel-v6.1', flags: ['onlink'] }),
    ]);

    // flanneld on host 2 reads weft's dual-stack lease and programs both triples from it
    const key = `${c.prefix}/subnets/${env.subnet!.replace('/', '-')}&${env.ipv6Subnet!.replace('/', '-')}`;
    const kv = (await c.etcd.client.getPrefix(key)).kvs[0]!;
    const attrs = JSON.parse(kv.value.toString()) as {
      PublicIP: string;
      PublicIPv6: string;
      BackendData: { VtepMAC: string };
      BackendV6Data: { VtepMAC: string };
    };
    expect(attrs).toMatchObject({ PublicIP: '192.0.2.1', PublicIPv6: '2001:db8::1', BackendV6Data: { VNI: 1 } });
    const program = (dev: string, gw: string, subnet: string, mac: string, dst: string, v6: boolean) => {
      ipf(...(v6 ? ['-6'] : []), 'neigh', 'replace', gw, 'lladdr', mac, 'dev', dev, 'nud', 'permanent');
      run('bridge', ['-n', f, 'fdb', 'replace', mac, 'dev', dev, 'dst', dst, 'self', 'permanent']);
      ipf(...(v6 ? ['-6'] : []), 'route', 'replace', subnet, 'via', gw, 'dev', dev, 'onlink');
    };
    program('flannel.1', env.subnet!.split('/')[0]!, env.subnet!, attrs.BackendData.VtepMAC, attrs.PublicIP, false);
    program('flannel-v6.1', env.ipv6Subnet!.split('/')[0]!, env.ipv6Subnet!, attrs.BackendV6Data.VtepMAC, attrs.PublicIPv6, true);
    run('ip', ['netns', 'exec', f, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);

    const pod1 = await c.pod(1, 'fd-pod1');
    expect(ping(pod1.ns.name, '10.244.200.2', { count: 2 })).toBe(true);
    expect(ping(pod1.ns.name, 'fc00:0:0:c8::2', { count: 2 })).toBe(true);
    expect(ping(pod2.name, pod1.ip6!, { count: 2 })).toBe(true);
    expect(ping(pod2.name, pod1.ip, { count: 2 })).toBe(true);
  });
});
