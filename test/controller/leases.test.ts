/**
 * Subnet leases (issue: "it never loses a lease"): races resolved without exiting, the subnet and VTEP MAC
 * kept across restarts and reboots, a deleted key taken back, reservations honoured, renewal, and a full
 * network waited on.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { eventually } from '../helpers/daemon.ts';
import { ipJson, run } from '../helpers/sh.ts';

const mac = (host: string) => ipJson<Array<{ address: string }>>(host, ['link', 'show', 'flannel.1'])[0]!.address;
const leases = async (c: SimCluster) =>
  (await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).kvs.map((kv) => ({
    key: kv.key.toString(),
    value: JSON.parse(kv.value.toString()) as { PublicIP: string },
    lease: kv.lease,
  }));

describe('leases', () => {
  it('five daemons starting at once on a network with seven subnets get five distinct ones', async () => {
    const c = await testCluster('l5', { config: { Network: '10.50.0.0/21', SubnetLen: 24, Backend: { Type: 'vxlan' } } });
    for (let n = 1; n <= 5; n++) await c.addHost(n);
    await c.startAll();
    const subnets = c.daemons.map((d) => d.subnetEnv().subnet);
    expect(new Set(subnets).size).toBe(5);
    const held = await leases(c);
    expect(held).toHaveLength(5);
    for (const [i, d] of c.daemons.entries()) {
      expect(held.find((l) => l.key.endsWith(d.subnetEnv().subnet!.replace('/', '-')))?.value.PublicIP).toBe(`192.0.2.${i + 1}`);
    }
  });

  it('a restart keeps the subnet and VTEP MAC; after a simulated reboot (device gone) too', async () => {
    const c = await testCluster('lr', { hosts: 1 });
    await c.startAll();
    const d = c.daemon(1);
    const before = { subnet: d.subnetEnv().subnet, mac: mac(c.hosts[0]!.name) };
    expect(await d.stop()).toBe(0);
    expect(await leases(c)).toHaveLength(1); // the lease is kept on shutdown
    d.start();
    await d.ready();
    expect({ subnet: d.subnetEnv().subnet, mac: mac(c.hosts[0]!.name) }).toEqual(before);

    await d.stop();
    run('ip', ['-n', c.hosts[0]!.name, 'link', 'del', 'flannel.1']);
    d.start();
    await d.ready();
    expect({ subnet: d.subnetEnv().subnet, mac: mac(c.hosts[0]!.name) }).toEqual(before);
  });

  it('reuses the previous subnet from the subnet file when its key vanished while the daemon was down', async () => {
    const c = await testCluster('lp', { hosts: 1 });
    await c.startAll();
    const d = c.daemon(1);
    const subnet = d.subnetEnv().subnet!;
    await d.stop();
    await c.etcd.client.deletePrefix(`${c.prefix}/subnets/`);
    d.start();
    await d.ready();
    expect(d.subnetEnv().subnet).toBe(subnet);
    expect(d.log()).toContain('how="the subnet file\'s, created again"');
  });

  it('takes its subnet back when its key is deleted while it runs', async () => {
    const c = await testCluster('lt', { hosts: 1 });
    await c.startAll();
    const d = c.daemon(1);
    const [own] = await leases(c);
    await c.etcd.client.delete(own!.key);
    const back = await eventually('the key to come back', async () => (await leases(c)).find((l) => l.key === own!.key));
    expect(back.value).toEqual(own!.value);
    expect(d.log()).toContain("took this host's subnet back");
    expect(d.subnetEnv().subnet).toBe(own!.key.split('/').pop()!.replace('-', '/'));
  });

  it('honours a reservation: the key keeps no etcd lease (flanneld would attach a 24 h one)', async () => {
    const c = await testCluster('lv', { hosts: 1 });
    const key = `${c.prefix}/subnets/10.244.77.0-24`;
    await c.etcd.client.put(
      key,
      '{"PublicIP":"192.0.2.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:00:77"}}',
    );
    await c.startAll();
    expect(c.daemon(1).subnetEnv().subnet).toBe('10.244.77.0/24');
    const [held] = await leases(c);
    expect(held!.lease).toBe('0');
    expect(held!.value).toMatchObject({ PublicIP: '192.0.2.1', BackendData: { VtepMAC: mac(c.hosts[0]!.name) } });
    expect(c.daemon(1).log()).toContain('expires="never (reservation)"');
  });

  it('renews its etcd lease before it expires', async () => {
    const c = await testCluster('ln');
    await c.addHost(1, ['--subnet-lease-ttl=65', '--subnet-lease-renew-margin=1']);
    await c.startAll();
    const d = c.daemon(1);
    await eventually('a renewal', () => d.log().includes('lease renewed'), 20_000);
    const [held] = await leases(c);
    const ttl = await c.etcd.client.leaseTimeToLive(held!.lease);
    expect(ttl).toBeGreaterThan(55);
  }, 40_000);

  it('waits (not ready, saying why) while the network has no free subnet, and takes one as soon as it frees', async () => {
    const c = await testCluster('lx', { hosts: 1, config: { Network: '10.60.0.0/22', SubnetLen: 24, Backend: { Type: 'vxlan' } } });
    for (const [i, s] of ['10.60.1.0-24', '10.60.2.0-24', '10.60.3.0-24'].entries()) {
      await c.etcd.client.put(
        `${c.prefix}/subnets/${s}`,
        `{"PublicIP":"198.51.100.${i + 1}","PublicIPv6":null,"BackendType":"vxlan",` +
          `"BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:01:0${i}"}}`,
      );
    }
    const d = c.daemon(1);
    d.start();
    await eventually('the reason in the log', () =>
      d.log().includes('no free subnet left in 10.60.0.0/22 (between 10.60.1.0 and 10.60.3.0)'),
    );
    expect(d.http('/readyz').ok).toBe(false);
    await c.etcd.client.delete(`${c.prefix}/subnets/10.60.2.0-24`);
    await d.ready();
    expect(d.subnetEnv().subnet).toBe('10.60.2.0/24');
  }, 40_000);
});
