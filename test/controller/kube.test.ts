/**
 * `weft daemon --kube-subnet-mgr` against a stand-in API server (pkg/sim/fake-kube.ts) with the real
 * client library: subnets from Node.spec.podCIDR, flannel's annotations published and read, peers programmed
 * exactly as in etcd mode, deleted nodes dropped at once, an expired watch listed again, a node without a
 * podCIDR waited for.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { FakeKube } from '../../pkg/sim/fake-kube.ts';
import { defer } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';
import { ipJson, ping } from '../helpers/sh.ts';

const A = 'flannel.alpha.coreos.com';
const route = (host: string, subnet: string) => ipJson<Array<{ gateway?: string; dev?: string }>>(host, ['route', 'show', subnet])[0];

describe('Kubernetes subnet manager', () => {
  it("takes subnets from podCIDR, publishes and reads flannel's annotations, and follows nodes", async () => {
    const c = await testCluster('ku', { config: null });
    const api = await c.sim.addHost(251);
    const fake = FakeKube.start(api.netns, api.ip);
    defer(() => fake.close());
    const dir = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}kube-`));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const kubeArgs = fake.daemonArgs(dir);
    fake.put({ metadata: { name: 'h1' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] } });
    fake.put({ metadata: { name: 'h2' }, spec: { podCIDR: '10.244.2.0/24' } });
    fake.put({ metadata: { name: 'h3' }, spec: {} });
    for (const n of [1, 2, 3]) await c.addHost(n, kubeArgs);
    c.daemon(1).start();
    c.daemon(2).start();
    c.daemon(3).start();
    await c.daemon(1).ready();
    await c.daemon(2).ready();

    // The subnet file and the node's annotations, as flanneld writes them.
    expect(readFileSync(c.daemon(1).subnetFile, 'utf8')).toMatch(
      /^FLANNEL_NETWORK=10\.244\.0\.0\/16\nFLANNEL_SUBNET=10\.244\.1\.1\/24\nFLANNEL_MTU=1450\n/,
    );
    const mac = ipJson<Array<{ address: string }>>(c.hosts[0]!.name, ['link', 'show', 'flannel.1'])[0]!.address;
    expect(fake.node('h1')!.metadata.annotations).toEqual({
      [`${A}/backend-type`]: 'vxlan',
      [`${A}/backend-data`]: `{"VNI":1,"VtepMAC":"${mac}"}`,
      [`${A}/public-ip`]: '192.0.2.1',
      [`${A}/kube-subnet-manager`]: 'true',
    });
    expect(fake.node('h1')!.status!.conditions).toEqual([expect.objectContaining({ type: 'NetworkUnavailable', status: 'False' })]);
    expect(fake.requests.some((r) => r.method === 'PATCH' && r.contentType === 'application/strategic-merge-patch+json')).toBe(true);
    expect(
      fake.requests.some((r) => /watch=true/.test(r.url) && /allowWatchBookmarks=true/.test(r.url) && /resourceVersion=\d+/.test(r.url)),
    ).toBe(true);

    // Peers programmed as in etcd mode; pods talk.
    await eventually('h1 routes to h2', () => route(c.hosts[0]!.name, '10.244.2.0/24'));
    expect(route(c.hosts[0]!.name, '10.244.2.0/24')).toMatchObject({ gateway: '10.244.2.0', dev: 'flannel.1' });
    const [p1, p2] = [await c.pod(1, 'k1'), await c.pod(2, 'k2')];
    expect(ping(p1.ns.name, p2.ip)).toBe(true);

    // A node without a podCIDR waits, and says why; assigning one lets it serve.
    expect(c.daemon(3).http('/readyz').ok).toBe(false);
    expect(c.daemon(3).log()).toContain('node h3 pod cidr not assigned');
    fake.put({ metadata: { name: 'h3', annotations: fake.node('h3')!.metadata.annotations ?? {} }, spec: { podCIDR: '10.244.3.0/24' } });
    await c.daemon(3).ready(30_000);
    await eventually('h1 routes to h3', () => route(c.hosts[0]!.name, '10.244.3.0/24'));

    // A flannel node is a peer; an unmanaged node and a malformed one are skipped.
    fake.put({
      metadata: {
        name: 'flannel4',
        annotations: {
          [`${A}/backend-type`]: 'vxlan',
          [`${A}/backend-data`]: '{"VNI":1,"VtepMAC":"02:00:00:00:04:01"}',
          [`${A}/public-ip`]: '198.51.100.4',
          [`${A}/kube-subnet-manager`]: 'true',
        },
      },
      spec: { podCIDR: '10.244.4.0/24' },
    });
    fake.put({ metadata: { name: 'other5' }, spec: { podCIDR: '10.244.5.0/24' } });
    fake.put({
      metadata: {
        name: 'bad6',
        annotations: {
          [`${A}/backend-type`]: 'vxlan',
          [`${A}/backend-data`]: '{"VNI":1,"VtepMAC":"zz"}',
          [`${A}/public-ip`]: '198.51.100.6',
          [`${A}/kube-subnet-manager`]: 'true',
        },
      },
      spec: { podCIDR: '10.244.6.0/24' },
    });
    await eventually('the flannel node programmed', () => route(c.hosts[1]!.name, '10.244.4.0/24'));
    expect(route(c.hosts[1]!.name, '10.244.5.0/24')).toBeUndefined();
    expect(route(c.hosts[1]!.name, '10.244.6.0/24')).toBeUndefined();
    expect(c.daemon(2).log()).toContain('ignoring node bad6: BackendData.VtepMAC "zz" is not a MAC address');

    // A deleted node's entries go at once.
    fake.delete('flannel4');
    await eventually('the deleted node dropped', () => !route(c.hosts[1]!.name, '10.244.4.0/24'), 5000);

    // An expired watch lists again and misses nothing.
    fake.expireWatches();
    fake.put({
      metadata: {
        name: 'flannel7',
        annotations: {
          [`${A}/backend-type`]: 'vxlan',
          [`${A}/backend-data`]: '{"VNI":1,"VtepMAC":"02:00:00:00:07:01"}',
          [`${A}/public-ip`]: '198.51.100.7',
          [`${A}/kube-subnet-manager`]: 'true',
        },
      },
      spec: { podCIDR: '10.244.7.0/24' },
    });
    await eventually(
      'the node added after the expiry',
      () => route(c.hosts[0]!.name, '10.244.7.0/24') && route(c.hosts[1]!.name, '10.244.7.0/24'),
      30_000,
    );
    expect(ping(p2.ns.name, p1.ip)).toBe(true);
  }, 120_000);

  it("dual-stack: both podCIDRs, flannel's IPv6 annotations published and read, pods talk over IPv6", async () => {
    const c = await testCluster('k6', { config: null, ipv6: true });
    const api = await c.sim.addHost(251);
    const fake = FakeKube.start(api.netns, api.ip);
    defer(() => fake.close());
    const dir = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}kube6-`));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const kubeArgs = fake.daemonArgs(dir, '10.244.0.0/16', 'fd00:244::/56');
    fake.put({ metadata: { name: 'h1' }, spec: { podCIDRs: ['10.244.1.0/24', 'fd00:244:0:1::/64'] } });
    fake.put({ metadata: { name: 'h2' }, spec: { podCIDRs: ['10.244.2.0/24', 'fd00:244:0:2::/64'] } });
    fake.put({ metadata: { name: 'h3' }, spec: { podCIDRs: ['10.244.3.0/24'] } });
    for (const n of [1, 2, 3]) await c.addHost(n, kubeArgs);
    for (const n of [1, 2, 3]) c.daemon(n).start();
    await c.daemon(1).ready();
    await c.daemon(2).ready();

    expect(c.daemon(1).subnetEnv()).toMatchObject({ subnet: '10.244.1.0/24', ipv6Subnet: 'fd00:244:0:1::/64', mtu: 1430 });
    const mac6 = ipJson<Array<{ address: string }>>(c.hosts[0]!.name, ['link', 'show', 'flannel-v6.1'])[0]!.address;
    expect(fake.node('h1')!.metadata.annotations).toMatchObject({
      [`${A}/backend-v6-data`]: `{"VNI":1,"VtepMAC":"${mac6}"}`,
      [`${A}/public-ipv6`]: '2001:db8::1',
    });
    await eventually(
      'h1 routes to h2 over IPv6',
      () => ipJson(c.hosts[0]!.name, ['-6', 'route', 'show', 'fd00:244:0:2::/64']).length === 1,
    );
    expect(ipJson(c.hosts[0]!.name, ['-6', 'route', 'show', 'fd00:244:0:2::/64'])).toEqual([
      expect.objectContaining({ gateway: 'fd00:244:0:2::', dev: 'flannel-v6.1' }),
    ]);
    const [p1, p2] = [await c.pod(1, 'k61'), await c.pod(2, 'k62')];
    expect(ping(p1.ns.name, p2.ip6!)).toBe(true);
    expect(ping(p2.ns.name, p1.ip)).toBe(true);

    // A node with an IPv4 podCIDR alone waits on a dual-stack network, and says why.
    expect(c.daemon(3).http('/readyz').ok).toBe(false);
    await eventually('h3 says why', () => c.daemon(3).log().includes('node h3 has no IPv6 pod cidr, and the network is dual-stack'));
  });
});
