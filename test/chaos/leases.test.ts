/**
 * Faults in the leases (issue 11): garbage values and a forged lease carrying a host's address, that host
 * restarting; a host's lease expiring while its daemon hangs, and the host coming back; `network rm` in a
 * loop. Nothing is renumbered or lost, and nothing of a removed network stays in etcd.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/daemon.ts';
import { ipJson, ping } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';
import { chaosCluster, converged, dataPathWorks, hasLink, inventory, settles } from './harness.ts';

/** How many reconcile passes the daemon made on its default network (one every resync period, and on changes). */
function passes(d: { http(path: string): { ok: boolean; body: string } }): number {
  const m = /^weft_reconcile_duration_seconds_count\{network="default"\} (\d+)$/m.exec(d.http('/metrics').body);
  return m ? Number(m[1]) : 0;
}

const lease = (ip: string, mac: string) =>
  `{"PublicIP":"${ip}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${mac}"}}`;

describe('lease faults', () => {
  it(
    "garbage values and a forged lease with a host's address: the host restarts on its own subnet, " +
      'its containers keep working (issue 11, defect 3)',
    async () => {
      const x = await chaosCluster('cg');
      const c = x.c;
      const pod = await c.pod(2, 'dflt1');
      const own = c.daemon(2).subnetEnv().subnet!;
      // A forged key for another subnet, carrying host 2's address, that sorts before host 2's own key (so it
      // would win "the first lease by key"); when host 2 drew the first subnet nothing valid sorts before it,
      // and a later key still tests that the subnet file wins.
      const ownKey = own.replace('/', '-');
      const taken = new Set([ownKey, c.daemon(1).subnetEnv().subnet!.replace('/', '-')]);
      const forged =
        ['10.244.1.0-24', '10.244.10.0-24', '10.244.100.0-24'].find((k) => k < ownKey && !taken.has(k)) ??
        ['10.244.2.0-24', '10.244.3.0-24', '10.244.4.0-24'].find((k) => !taken.has(k))!;
      const put = (k: string, v: string) => c.etcd.client.put(`${c.prefix}/subnets/${k}`, v);
      await put(forged, lease('192.0.2.2', '02:00:00:00:66:66'));
      await put('garbage-key', '{"PublicIP":');
      await put('10.244.151.0-24', 'not json');
      const before = await inventory(x);

      await c.daemon(2).stop();
      c.daemon(2).start();
      await c.daemon(2).ready();
      expect(c.daemon(2).subnetEnv().subnet).toBe(own);
      expect(c.daemon(2).log()).toContain(
        `ignoring ${c.prefix}/subnets/${forged}, which carries this host's address 192.0.2.2: this host's subnet file says ${own}`,
      );
      // Containers on the default network: the old one still talks, a new one can be added.
      const after = await c.pod(2, 'dflt2');
      const other = await c.pod(1, 'dflt3');
      expect(ping(other.ns.name, pod.ip)).toBe(true);
      expect(ping(other.ns.name, after.ip)).toBe(true);
      dataPathWorks(x);
      await settles(x, before, 'forged lease and restart');
    },
  );

  it('a host whose daemon hangs past its lease expiry: peers drop it, and it takes the same subnet back when it runs again', async () => {
    const x = await chaosCluster('cx', { daemonArgs: ['--subnet-lease-ttl=10'] });
    const c = x.c;
    const before = await inventory(x);
    const redOf2 = Object.keys(before.leases).find((k) => k.includes('/networks/') && before.leases[k] === '192.0.2.2')!;
    const subnet = redOf2.split('/').pop()!.replace('-', '/');
    c.daemon(2).freeze();
    await converged(
      "the hung host's RED lease expired and its peer dropped it",
      () => ipJson(c.hosts[0]!.name, ['route', 'show', subnet]).length === 0,
      30_000,
    );
    c.daemon(2).thaw();
    await converged(
      'the host runs again: its lease back and its peer routing to it',
      () => ipJson(c.hosts[0]!.name, ['route', 'show', subnet]).length === 1,
      30_000,
    );
    expect(c.daemon(2).log()).toMatch(/took this host's subnet back|taking the subnet back/);
    dataPathWorks(x);
    await settles(x, before, 'lease expiry and return');
  });

  it('network rm in a loop: nothing of the network stays in etcd or on any host (issue 11, defect 2)', async () => {
    const x = await chaosCluster('cr', { hosts: 3 });
    const c = x.c;
    const before = await inventory(x);
    for (let round = 1; round <= 3; round++) {
      const id = weftOk(c, 1, ['network', 'create', '--subnet', '10.30.0.0/24', 'GREEN']).trim();
      for (const d of c.daemons) await eventually(`GREEN on ${d.host.name}`, () => existsSync(join(d.cniConfDir, 'weft-GREEN.conflist')));
      weftOk(c, (round % 3) + 1, ['network', 'rm', 'GREEN']);
      const left = async () =>
        (await c.etcd.client.getPrefix(`${c.weftPrefix}/`)).kvs.filter((kv) => kv.key.includes(id) || kv.value.includes(id));
      await converged(
        `network rm, round ${round}: nothing of GREEN in etcd, no device on any host`,
        async () =>
          (await left()).length === 0 &&
          c.hosts.every((h) => !hasLink(x, h.n, 'w-GREEN') && !existsSync(join(c.daemon(h.n).cniConfDir, 'weft-GREEN.conflist'))),
      );
      // ...and none comes back: a host taking its subnet back after the removal was the bug. Waited for by each
      // daemon's own clock (two more of its resync passes), not a fixed time.
      const daemons = c.daemons.filter((d) => d !== undefined);
      const before = daemons.map((d) => passes(d));
      for (const [i, d] of daemons.entries())
        await eventually(`two resync passes on ${d.host.name} after the removal`, () => passes(d) >= before[i]! + 2);
      expect((await left()).map((kv) => kv.key)).toEqual([]);
    }
    dataPathWorks(x);
    await settles(x, before, 'network rm loop');
  }, 120_000);
});
