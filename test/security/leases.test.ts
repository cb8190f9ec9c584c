/**
 * A hostile etcd writer's leases (issue 25, attack 4): a key claiming the etcd server's address (`192.0.2.250-32`
 * was programmed as a peer route, and the host lost etcd), one outside the network's range, one over the
 * underlay, one with a multicast PublicIP, and one on a host's own subnet. None reaches the kernel, each is
 * logged once, the host keeps etcd, and a legitimate peer written after them is still programmed.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { ipJson, ping } from '../helpers/sh.ts';

const lease = (ip: string, mac: string) =>
  `{"PublicIP":"${ip}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${mac}"}}`;

describe('hostile leases', () => {
  it('are not programmed: not over etcd, the underlay, outside the range, a multicast VTEP, or a host’s own subnet', async () => {
    const c = await testCluster('hl', { hosts: 2 });
    await c.startAll();
    const a = await c.pod(1, 'hla');
    const b = await c.pod(2, 'hlb');
    const h1 = c.hosts[0]!.name;
    const own2 = c.daemon(2).subnetEnv().subnet!;
    const put = (k: string, ip: string, mac: string) => c.etcd.client.put(`${c.prefix}/subnets/${k}`, lease(ip, mac));
    await put('192.0.2.250-32', '198.51.100.66', '02:00:00:00:66:01');
    await put('10.9.0.0-16', '198.51.100.67', '02:00:00:00:67:01');
    await put('192.0.2.0-24', '198.51.100.68', '02:00:00:00:68:01');
    await put('10.244.170.0-24', '224.0.0.5', '02:00:00:00:69:01');
    await put(own2.replace('/24', '/25').replace('/', '-'), '198.51.100.70', '02:00:00:00:70:01');
    // A legitimate lease written after the hostile ones: once it is programmed, they were all seen.
    await put('10.244.180.0-24', '198.51.100.80', '02:00:00:00:80:01');
    await eventually('the legitimate peer programmed', () => ipJson(h1, ['route', 'show', '10.244.180.0/24']).length === 1);

    const routes = ipJson<Array<{ dst: string }>>(h1, ['route', 'show']).map((r) => r.dst);
    for (const dst of ['192.0.2.250', '10.9.0.0/16', '10.244.170.0/24', own2.replace('/24', '/25')]) expect(routes).not.toContain(dst);
    expect(ipJson<Array<{ dst: string; dev: string }>>(h1, ['route', 'show', '192.0.2.0/24'])).toEqual([
      expect.objectContaining({ dev: expect.not.stringMatching(/^flannel/) }),
    ]);
    const log = c.daemon(1).log();
    expect(log).toContain(`ignoring the lease ${c.prefix}/subnets/192.0.2.250-32`);
    expect(log).toContain(
      `ignoring the lease ${c.prefix}/subnets/10.244.170.0-24 (host 224.0.0.5): its PublicIP 224.0.0.5 is not a unicast address`,
    );
    expect(log).toMatch(/lease conflict: .* claims addresses that an earlier key .* holds/);
    expect(log.split('\n').filter((l) => l.includes('ignoring the lease') && l.includes('192.0.2.250-32'))).toHaveLength(1);
    // The host still has etcd (a status call reads through it) and the data path between the real hosts works.
    expect(ping(a.ns.name, b.ip)).toBe(true);
    await put('10.244.181.0-24', '198.51.100.81', '02:00:00:00:81:01');
    await eventually(
      'a later peer still programmed (etcd still reachable)',
      () => ipJson(h1, ['route', 'show', '10.244.181.0/24']).length === 1,
    );
  });
});
