/** Pods on three hosts over the overlay, DirectRouting on a shared underlay, and --ip-masq. */
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { ipJson, ping, run, tcpCheck } from '../helpers/sh.ts';

describe('three hosts', () => {
  it('every pod reaches every other pod by ICMP and TCP', async () => {
    const c = await testCluster('e3', { hosts: 3 });
    await c.startAll();
    const pods = await Promise.all([c.pod(1, 'p1'), c.pod(2, 'p2'), c.pod(3, 'p3')]);
    for (const a of pods) {
      for (const b of pods) {
        if (a === b) continue;
        expect(ping(a.ns.name, b.ip), `${a.ns.name} -> ${b.ip}`).toBe(true);
      }
    }
    expect(await tcpCheck(pods[2]!.ns.name, pods[0]!.ns.name, pods[2]!.ip)).toBe(true);
    expect(await tcpCheck(pods[0]!.ns.name, pods[1]!.ns.name, pods[0]!.ip)).toBe(true);
    // The overlay MTU is the underlay's minus VXLAN's 50 bytes; a full-size packet crosses without fragmenting.
    expect(ipJson<Array<{ mtu: number }>>(pods[0]!.ns.name, ['link', 'show', 'eth0'])[0]!.mtu).toBe(1450);
    expect(run('ip', ['netns', 'exec', pods[0]!.ns.name, 'ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '1422', pods[1]!.ip])).toContain(
      '1 received',
    );
  });
});

describe('DirectRouting', () => {
  it('routes peers on the same underlay subnet via their address, without encapsulation', async () => {
    const c = await testCluster('dr', { hosts: 2, config: { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', DirectRouting: true } } });
    await c.startAll();
    const s2 = c.daemon(2).subnetEnv().subnet!;
    await eventually(
      'a direct route',
      () => ipJson<Array<{ gateway?: string }>>(c.hosts[0]!.name, ['route', 'show', s2])[0]?.gateway === '192.0.2.2',
    );
    expect(ipJson(c.hosts[0]!.name, ['route', 'show', s2])).toEqual([expect.objectContaining({ gateway: '192.0.2.2', dev: 'eth0' })]);
    expect(ipJson(c.hosts[0]!.name, ['neigh', 'show', 'dev', 'flannel.1'])).toEqual([]);
    const a = await c.pod(1, 'da');
    const b = await c.pod(2, 'db');
    expect(ping(a.ns.name, b.ip)).toBe(true);
  });
});

describe('--ip-masq', () => {
  it("installs flannel's masquerade rules: pods reach an outside address through the host's", async () => {
    const c = await testCluster('mq');
    await c.addHost(1, ['--ip-masq']);
    await c.startAll();
    expect(c.daemon(1).subnetEnv().ipMasq).toBe(true);
    const table = run('ip', ['netns', 'exec', c.hosts[0]!.name, 'nft', 'list', 'table', 'ip', 'weft_default']);
    expect(table).toContain('meta mark & 0x00004000 == 0x00004000 return');
    expect(table).toContain('ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random');
    // An "outside" machine on the underlay with no route to the cluster network answers only a masqueraded pod.
    const outside = await c.sim.addHost(200);
    const pod = await c.pod(1, 'mp');
    expect(ping(pod.ns.name, outside.ip)).toBe(true);
    // Without the rules the outside machine cannot answer; the periodic resync puts them back.
    run('ip', ['netns', 'exec', c.hosts[0]!.name, 'nft', 'delete', 'table', 'ip', 'weft_default']);
    expect(ping(pod.ns.name, outside.ip, { timeoutSec: 1 })).toBe(false);
    await eventually('the rules restored', () => ping(pod.ns.name, outside.ip, { timeoutSec: 1 }));
  });
});
