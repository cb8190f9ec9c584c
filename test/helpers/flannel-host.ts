/**
 * A host built by hand the way flanneld (vxlan backend, etcd mode) and its CNI delegate build one: flannel.1
 * made with `ip`, its lease in flanneld's exact bytes on a 24 h etcd lease (10.244.200.0/24), cni0 with .1 and
 * a pod with .2 behind it. Used wherever a test needs a flanneld peer in a weft cluster.
 */
import type { SimCluster, SimHost } from '../../pkg/sim/mod.ts';
import { makeNetns, type TestNetns } from './netns.ts';
import { run } from './sh.ts';

export const FLANNEL_VTEP_MAC = 'c6:d2:32:6f:8f:44';

export interface FlannelHost {
  readonly host: SimHost;
  /** `ip -n <host> ...` */
  readonly ipf: (...args: string[]) => void;
  readonly pod: TestNetns;
}

export async function flannelHost(c: SimCluster, n: number, podTag: string): Promise<FlannelHost> {
  const host = await c.sim.addHost(n);
  const ipf = (...args: string[]) => void run('ip', ['-n', host.name, ...args]);
  const vxlan = ['type', 'vxlan', 'id', '1', 'local', host.ip, 'dev', 'eth0', 'nolearning', 'dstport', '8472'];
  ipf('link', 'add', 'flannel.1', 'address', FLANNEL_VTEP_MAC, 'mtu', '1450', ...vxlan);
  ipf('addr', 'add', '10.244.200.0/32', 'dev', 'flannel.1');
  ipf('link', 'set', 'flannel.1', 'up');
  const grant = await c.etcd.client.leaseGrant(86400);
  await c.etcd.client.put(
    `${c.prefix}/subnets/10.244.200.0-24`,
    `{"PublicIP":"${host.ip}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${FLANNEL_VTEP_MAC}"}}`,
    { lease: grant.id },
  );
  // flannel's CNI delegate (bridge + host-local): cni0 with .1, a pod with .2
  ipf('link', 'add', 'cni0', 'type', 'bridge');
  ipf('addr', 'add', '10.244.200.1/24', 'dev', 'cni0');
  ipf('link', 'set', 'cni0', 'up');
  const pod = makeNetns(podTag);
  ipf('link', 'add', 'vethf', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', pod.name);
  ipf('link', 'set', 'vethf', 'master', 'cni0', 'up');
  run('ip', ['-n', pod.name, 'addr', 'add', '10.244.200.2/24', 'dev', 'eth0']);
  run('ip', ['-n', pod.name, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', pod.name, 'route', 'add', 'default', 'via', '10.244.200.1']);
  return { host, ipf, pod };
}
