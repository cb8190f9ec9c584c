/**
 * A mixed cluster: host 2 is built by hand the way flanneld (vxlan backend, etcd mode) and its CNI
 * delegate would build it: a lease in flanneld's exact bytes on a 24 h etcd lease, flannel.1 made with
 * `ip`, the bridge and pod made with `ip`, and host 1's entries programmed with `ip neigh`/`bridge fdb`/
 * `ip route` from host 1's lease as flanneld reads it. Host 1 runs weft. Their pods reach each other.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson, ping, run } from '../helpers/sh.ts';

describe('flannel interoperation', () => {
  it("a weft host and a host programmed as flanneld programs one reach each other's pods", async () => {
    const c = await testCluster('fi', { hosts: 1 });
    const flannel = await c.sim.addHost(2);
    const f = flannel.name;
    const ipf = (...args: string[]) => run('ip', ['-n', f, ...args]);
    const FMAC = 'c6:d2:32:6f:8f:44';

    // flanneld on host 2: its VTEP and its lease, byte for byte as flanneld writes them
    ipf(
      'link',
      'add',
      'flannel.1',
      'address',
      FMAC,
      'mtu',
      '1450',
      'type',
      'vxlan',
      'id',
      '1',
      'local',
      '192.0.2.2',
      'dev',
      'eth0',
      'nolearning',
      'dstport',
      '8472',
    );
    ipf('addr', 'add', '10.244.200.0/32', 'dev', 'flannel.1');
    ipf('link', 'set', 'flannel.1', 'up');
    const grant = await c.etcd.client.leaseGrant(86400);
    await c.etcd.client.put(
      `${c.prefix}/subnets/10.244.200.0-24`,
      `{"PublicIP":"192.0.2.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${FMAC}"}}`,
      { lease: grant.id },
    );
    // flannel's CNI delegate (bridge + host-local) on host 2: cni0 with .1, a pod with .2
    ipf('link', 'add', 'cni0', 'type', 'bridge');
    ipf('addr', 'add', '10.244.200.1/24', 'dev', 'cni0');
    ipf('link', 'set', 'cni0', 'up');
    const pod2 = makeNetns('fi-pod2');
    ipf('link', 'add', 'vethf', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', pod2.name);
    ipf('link', 'set', 'vethf', 'master', 'cni0', 'up');
    run('ip', ['-n', pod2.name, 'addr', 'add', '10.244.200.2/24', 'dev', 'eth0']);
    run('ip', ['-n', pod2.name, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', pod2.name, 'route', 'add', 'default', 'via', '10.244.200.1']);

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
});
