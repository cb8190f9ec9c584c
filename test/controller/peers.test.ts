/**
 * Peer programming follows etcd exactly: entries appear, change and disappear with the leases; bad entries
 * are skipped; drift in the kernel is repaired by the periodic reconcile; a watch that lost its place (etcd
 * compacted while the host was cut off) lists again; and the data path survives etcd being down.
 */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { bridgeJson, ipJson, ping, run } from '../helpers/sh.ts';

// Remote leases here use 10.244.150.0 and up: a host picks its own subnet at random among the first 100
// free ones (10.244.1-100.0), and must never be handed one of these.

const lease = (ip: string, mac: string) =>
  `{"PublicIP":"${ip}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${mac}"}}`;

function kernel(host: string, subnet: string) {
  const gw = subnet.split('/')[0]!;
  return {
    route: ipJson<Array<{ gateway?: string }>>(host, ['route', 'show', subnet])[0],
    neigh: ipJson<Array<{ dst: string; lladdr: string }>>(host, ['neigh', 'show', 'dev', 'flannel.1']).find((n) => n.dst === gw),
    fdb: bridgeJson<Array<{ mac: string; dst?: string }>>(host, ['fdb', 'show', 'dev', 'flannel.1']).filter((f) => f.dst),
  };
}

describe('peers', () => {
  it('a remote lease appearing, changing its VTEP MAC, and disappearing is reflected in the kernel', async () => {
    const c = await testCluster('pa', { hosts: 1 });
    await c.startAll();
    const h = c.hosts[0]!.name;
    const key = `${c.prefix}/subnets/10.244.150.0-24`;
    await c.etcd.client.put(key, lease('198.51.100.50', '02:00:00:00:50:01'));
    await eventually('the peer programmed', () => kernel(h, '10.244.150.0/24').route);
    expect(kernel(h, '10.244.150.0/24')).toEqual({
      route: expect.objectContaining({ gateway: '10.244.150.0', dev: 'flannel.1', flags: ['onlink'] }),
      neigh: expect.objectContaining({ lladdr: '02:00:00:00:50:01', state: ['PERMANENT'] }),
      fdb: [expect.objectContaining({ mac: '02:00:00:00:50:01', dst: '198.51.100.50' })],
    });

    await c.etcd.client.put(key, lease('198.51.100.50', '02:00:00:00:50:02'));
    await eventually('the new MAC', () => kernel(h, '10.244.150.0/24').neigh?.lladdr === '02:00:00:00:50:02');
    // The old MAC's FDB entry is gone, not leaked as flanneld leaks it.
    expect(kernel(h, '10.244.150.0/24').fdb).toEqual([expect.objectContaining({ mac: '02:00:00:00:50:02', dst: '198.51.100.50' })]);

    await c.etcd.client.delete(key);
    await eventually('the peer removed', () => !kernel(h, '10.244.150.0/24').route);
    expect(kernel(h, '10.244.150.0/24')).toEqual({ route: undefined, neigh: undefined, fdb: [] });
  });

  it('skips malformed keys and values and non-vxlan leases, and keeps serving the rest', async () => {
    const c = await testCluster('pg', { hosts: 1 });
    await c.startAll();
    const h = c.hosts[0]!.name;
    const put = (k: string, v: string) => c.etcd.client.put(`${c.prefix}/subnets/${k}`, v);
    await put('not-a-subnet', lease('198.51.100.9', '02:00:00:00:00:09'));
    await put('10.244.151.0-24', '{garbage');
    await put('10.244.152.0-24', '{"PublicIP":"198.51.100.52","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"zz"}}');
    await put('10.244.153.0-24', '{"PublicIP":"198.51.100.53","BackendType":"host-gw"}');
    await put('10.244.154.0-24', lease('198.51.100.54', '02:00:00:00:54:01'));
    await eventually('the valid peer', () => kernel(h, '10.244.154.0/24').route);
    for (const s of ['10.244.151.0/24', '10.244.152.0/24', '10.244.153.0/24']) expect(kernel(h, s).route, s).toBeUndefined();
    const log = c.daemon(1).log();
    const at = (k: string) => `ignoring subnet entry ${c.prefix}/subnets/${k}: `;
    expect(log).toContain(`${at('not-a-subnet')}not a subnet key`);
    expect(log).toContain(`${at('10.244.152.0-24')}BackendData.VtepMAC "zz" is not a MAC address`);
    // A lease of another backend is said, once (issue 11: it was skipped silently).
    expect(
      log.split('\n').filter((l) => l.includes(`${at('10.244.153.0-24')}its backend is host-gw, and weft serves vxlan only`)),
    ).toHaveLength(1);
    expect(c.daemon(1).http('/readyz').ok).toBe(true);
  });

  it('the periodic reconcile restores deleted entries and removes entries no lease backs', async () => {
    const c = await testCluster('pr', { hosts: 1 });
    await c.startAll();
    const h = c.hosts[0]!.name;
    await c.etcd.client.put(`${c.prefix}/subnets/10.244.160.0-24`, lease('198.51.100.60', '02:00:00:00:60:01'));
    await eventually('the peer programmed', () => kernel(h, '10.244.160.0/24').route);
    run('ip', ['-n', h, 'route', 'del', '10.244.160.0/24']);
    run('ip', ['-n', h, 'neigh', 'del', '10.244.160.0', 'dev', 'flannel.1']);
    run('ip', ['-n', h, 'neigh', 'replace', '10.244.161.0', 'lladdr', '02:00:00:00:61:01', 'dev', 'flannel.1', 'nud', 'permanent']);
    run('bridge', ['-n', h, 'fdb', 'append', '02:00:00:00:61:01', 'dev', 'flannel.1', 'dst', '198.51.100.61', 'self', 'permanent']);
    run('ip', ['-n', h, 'route', 'add', '10.244.161.0/24', 'via', '10.244.161.0', 'dev', 'flannel.1', 'onlink']);
    await eventually('drift repaired', () => {
      const k = kernel(h, '10.244.160.0/24');
      const stray = kernel(h, '10.244.161.0/24');
      return k.route && k.neigh && !stray.route && !stray.neigh && stray.fdb.every((f) => f.mac !== '02:00:00:00:61:01');
    });
  });

  it('lists again after a compaction it missed while cut off from etcd', async () => {
    const c = await testCluster('pc', { hosts: 1 });
    const stays = `${c.prefix}/subnets/10.244.170.0-24`;
    const goes = `${c.prefix}/subnets/10.244.171.0-24`;
    await c.etcd.client.put(stays, lease('198.51.100.70', '02:00:00:00:70:01'));
    await c.etcd.client.put(goes, lease('198.51.100.71', '02:00:00:00:71:01'));
    await c.startAll();
    const h = c.hosts[0]!.name;
    await eventually('both peers', () => kernel(h, '10.244.171.0/24').route && kernel(h, '10.244.170.0/24').route);
    // Cut the host off from etcd (refuse new connections, kill the open ones), change the leases and compact
    // the history away, so the watch cannot resume where it stopped.
    run('ip', ['netns', 'exec', h, 'nft', '-f', '-'], {
      input:
        'table ip cut {\n chain out {\n  type filter hook output priority 0;\n' +
        '  ip daddr 192.0.2.250 tcp dport 2379 reject with tcp reset\n }\n}\n',
    });
    run('ip', ['netns', 'exec', h, 'ss', '-K', 'dst', '192.0.2.250']);
    await c.etcd.client.delete(goes);
    await c.etcd.client.put(`${c.prefix}/subnets/10.244.172.0-24`, lease('198.51.100.72', '02:00:00:00:72:01'));
    await c.etcd.compact();
    run('ip', ['netns', 'exec', h, 'nft', 'delete', 'table', 'ip', 'cut']);
    await eventually(
      'the new snapshot applied',
      () => kernel(h, '10.244.172.0/24').route && !kernel(h, '10.244.171.0/24').route && kernel(h, '10.244.170.0/24').route,
      30_000,
    );
    expect(c.daemon(1).log()).toMatch(/listing again/);
  }, 60_000);

  it('pods keep talking while etcd is down, and changes flow again after it restarts', async () => {
    const c = await testCluster('pe', { hosts: 2 });
    await c.startAll();
    const a = await c.pod(1, 'ea');
    const b = await c.pod(2, 'eb');
    expect(ping(a.ns.name, b.ip)).toBe(true);
    c.etcd.kill();
    await new Promise((r) => setTimeout(r, 1500));
    expect(ping(a.ns.name, b.ip, { count: 3 })).toBe(true);
    await c.etcd.restart();
    await c.etcd.client.put(`${c.prefix}/subnets/10.244.180.0-24`, lease('198.51.100.80', '02:00:00:00:80:01'));
    await eventually(
      'the change after the restart',
      () => kernel(c.hosts[0]!.name, '10.244.180.0/24').route && kernel(c.hosts[1]!.name, '10.244.180.0/24').route,
      30_000,
    );
    expect(ping(a.ns.name, b.ip)).toBe(true);
  }, 60_000);
});
