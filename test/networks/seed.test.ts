/**
 * The seed scenario of Docker-style networks on three simulated hosts with a real etcd: networks created on
 * one host appear on all with one ID; containers attached by hand (`weft network connect`) and by podman find
 * each other by name across hosts; names are unique per network; networks are isolated from each other;
 * inspect shows every host's endpoints; rm is refused while endpoints remain.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer } from '../helpers/netns.ts';
import { Podman } from '../helpers/podman.ts';
import { inNetns, ipJson, ping, run, tcpCheck, tryRun } from '../helpers/sh.ts';
import { weftOk, weftOn, writeResolvConf } from '../helpers/weft-cli.ts';
import type { SimCluster, SimNs } from '../../pkg/sim/mod.ts';

interface Inspect {
  Name: string;
  Id: string;
  Scope: string;
  Driver: string;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  Options: Record<string, string>;
  Containers: Record<string, { Name: string; Host: string; IPv4Address: string; Interface: string }>;
}

const inspect = (c: SimCluster, n: number, net: string) => (JSON.parse(weftOk(c, n, ['network', 'inspect', net])) as Inspect[])[0]!;
const names = (i: Inspect) =>
  Object.values(i.Containers)
    .map((e) => `${e.Name}@${e.Host}`)
    .sort();
const addr = (r: { ips: Array<{ address: string }> }) => r.ips[0]!.address.split('/')[0]!;

/** A namespace attached by `weft network connect`, its resolv.conf written from the result. */
async function manual(c: SimCluster, n: number, net: string, name: string): Promise<{ ns: SimNs; ip: string }> {
  const ns = await c.sim.namespace(`h${n}-${name}`);
  const r = JSON.parse(weftOk(c, n, ['network', 'connect', net, '--netns', ns.path, '--name', name])) as {
    ips: Array<{ address: string }>;
    dns: { nameservers: string[]; search: string[] };
  };
  writeResolvConf(ns.name, r.dns);
  return { ns, ip: addr(r) };
}

const resolves = (nsName: string, name: string): string | undefined => {
  const r = inNetns(nsName, 'getent', ['hosts', name]);
  return r.ok ? r.stdout.split(/\s+/)[0] : undefined;
};

describe('named networks', () => {
  it('the seed scenario: RED and BLUE across three hosts', async () => {
    const c = await testCluster('nw', { hosts: 3 });
    await c.startAll();

    // RED, created on host 1, appears on every host with the same ID.
    const redId = weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']).trim();
    expect(redId).toMatch(/^[0-9a-f]{64}$/);
    for (const n of [1, 2, 3]) {
      await eventually(`RED served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-RED.conflist')));
      expect(weftOk(c, n, ['network', 'ls'])).toMatch(new RegExp(`^${redId.slice(0, 12)}\\s+RED\\s+overlay\\s+global$`, 'm'));
    }
    expect(inspect(c, 3, 'RED')).toMatchObject({
      Name: 'RED',
      Id: redId,
      Scope: 'global',
      Driver: 'overlay',
      IPAM: { Config: [{ Subnet: '10.10.10.0/24', Gateway: '10.10.10.1' }] },
    });

    // Refused with Docker's messages, nothing changes.
    const dup = weftOn(c, 2, ['network', 'create', '--subnet', '10.10.30.0/24', 'RED']);
    expect(dup).toMatchObject({ ok: false, stderr: 'weft: network with name RED already exists\n' });
    const overlap = weftOn(c, 3, ['network', 'create', '--subnet', '10.10.10.128/25', 'PINK']);
    expect(overlap.ok).toBe(false);
    expect(overlap.stderr).toMatch(/^weft: .*10\.10\.10\.128\/25 overlaps .*RED.*\n$/);

    // container1 by hand on host 1, container2 by podman on host 2.
    const c1 = await manual(c, 1, 'RED', 'container1');
    const pod2 = new Podman({ ns: { path: c.hosts[1]!.path }, dir: c.daemon(2).dir }, { netConfDir: c.daemon(2).cniConfDir });
    const started = pod2.run(['-d', '--name', 'container2', '--network', 'RED'], ['sleep', '3600']);
    expect(started.ok, started.stderr).toBe(true);
    const c2ns = `${c.sim.prefix}h2-container2`;
    run('ip', ['netns', 'attach', c2ns, String(pod2.pid('container2'))]);
    defer(() => void tryRun('ip', ['netns', 'delete', c2ns]));
    const c2ip = ipJson<Array<{ addr_info: Array<{ family: string; local: string }> }>>(c2ns, ['addr', 'show', 'eth0'])[0]!.addr_info.find(
      (a) => a.family === 'inet',
    )!.local;
    expect(c2ip).toMatch(/^10\.10\.10\./);

    // By IP, by name and by NAME.NETWORK; ICMP and TCP; DNS answers come from the host's server on the gateway.
    expect(ping(c1.ns.name, c2ip)).toBe(true);
    expect(await tcpCheck(c2ns, c1.ns.name, c2ip)).toBe(true);
    await eventually('container2 in DNS', () => resolves(c1.ns.name, 'container2') === c2ip);
    expect(resolves(c1.ns.name, 'container2.RED')).toBe(c2ip);
    expect(ping(c1.ns.name, 'container2')).toBe(true);
    expect(ping(c1.ns.name, 'container2.RED')).toBe(true);
    expect(await tcpCheck(c2ns, c1.ns.name, 'container2')).toBe(true);
    expect(await tcpCheck(c2ns, c1.ns.name, 'container2.RED')).toBe(true);
    // podman's container asks its host's server (its gateway) directly.
    const gw2 = ipJson<Array<{ gateway: string }>>(c2ns, ['route', 'show', 'default'])[0]!.gateway;
    expect(run('ip', ['netns', 'exec', c2ns, 'busybox', 'nslookup', 'container1.RED', gw2])).toContain(c1.ip);

    // The overlay MTU is the underlay's minus 50; the outside world is reached through the host (masquerade).
    expect(ipJson<Array<{ mtu: number }>>(c1.ns.name, ['link', 'show', 'eth0'])[0]!.mtu).toBe(1450);
    expect(ipJson<Array<{ mtu: number }>>(c2ns, ['link', 'show', 'eth0'])[0]!.mtu).toBe(1450);
    const outside = await c.sim.addHost(200);
    expect(ping(c1.ns.name, outside.ip)).toBe(true);

    // A second container1 on RED (host 3) fails with Docker's message and leaves nothing behind.
    const dupNs = await c.sim.namespace('h3-dup1');
    const again = weftOn(c, 3, ['network', 'connect', 'RED', '--netns', dupNs.path, '--name', 'container1']);
    expect(again.ok).toBe(false);
    expect(again.stderr).toContain('service endpoint with name container1 already exists');
    expect(ipJson(dupNs.name, ['link', 'show', 'type', 'veth'])).toEqual([]);
    expect(ipJson<Array<{ ifname: string }>>(c.hosts[2]!.name, ['link', 'show', 'type', 'veth']).map((l) => l.ifname)).toEqual(['eth0']);
    const ipsDir = join(c.daemon(3).cniDataDir, 'RED', 'ips');
    expect(existsSync(ipsDir) ? readdirSync(ipsDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : []).toEqual([]);
    expect(names(inspect(c, 3, 'RED'))).toEqual(['container1@h1', 'container2@h2']);

    // BLUE; container3 (host 2) on RED then BLUE; container4 (host 3) and container5 (host 1) on BLUE.
    weftOk(c, 2, ['network', 'create', '--subnet', '10.10.20.0/24', 'BLUE']);
    for (const n of [1, 2, 3])
      await eventually(`BLUE served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-BLUE.conflist')));
    const c3 = await manual(c, 2, 'RED', 'container3');
    const c3blue = JSON.parse(
      weftOk(c, 2, ['network', 'connect', 'BLUE', '--netns', c3.ns.path, '--name', 'container3', '--ifname', 'eth1']),
    ) as { ips: Array<{ address: string }> };
    const c4 = await manual(c, 3, 'BLUE', 'container4');
    const c5 = await manual(c, 1, 'BLUE', 'container5');
    expect(inspect(c, 1, 'BLUE').Options['com.docker.network.driver.overlay.vxlanid_list']).not.toBe(
      inspect(c, 1, 'RED').Options['com.docker.network.driver.overlay.vxlanid_list'],
    );

    // container3 reaches both sides; container1 reaches neither BLUE container, on another host or its own.
    expect(ping(c3.ns.name, c1.ip)).toBe(true);
    expect(ping(c3.ns.name, c4.ip)).toBe(true);
    expect(ping(c3.ns.name, 'container4')).toBe(true);
    expect(ping(c1.ns.name, c4.ip, { timeoutSec: 1 })).toBe(false);
    expect(ping(c1.ns.name, c5.ip, { timeoutSec: 1 })).toBe(false);
    expect(ping(c1.ns.name, addr(c3blue), { timeoutSec: 1 })).toBe(false);
    expect(ping(c4.ns.name, c1.ip, { timeoutSec: 1 })).toBe(false);
    // Names resolve only on a shared network.
    expect(resolves(c1.ns.name, 'container4')).toBeUndefined();
    expect(resolves(c4.ns.name, 'container3')).toBe(addr(c3blue));

    // container2 leaves RED and joins BLUE, through podman.
    const disc = pod2.podman(['network', 'disconnect', 'RED', 'container2']);
    expect(disc.ok, disc.stderr).toBe(true);
    const conn = pod2.podman(['network', 'connect', 'BLUE', 'container2']);
    expect(conn.ok, conn.stderr).toBe(true);
    await eventually('container2 on BLUE in DNS', () => resolves(c4.ns.name, 'container2')?.startsWith('10.10.20.'));
    expect(ping(c4.ns.name, 'container2')).toBe(true);
    expect(resolves(c1.ns.name, 'container2')).toBeUndefined();

    // inspect lists the endpoints of every host, with their host.
    expect(names(inspect(c, 3, 'RED'))).toEqual(['container1@h1', 'container3@h2']);
    expect(names(inspect(c, 1, 'BLUE'))).toEqual(['container2@h2', 'container3@h2', 'container4@h3', 'container5@h1']);

    // rm is refused while endpoints exist, and accepted once they are gone; every host then drops RED.
    expect(weftOn(c, 3, ['network', 'rm', 'RED'])).toMatchObject({ ok: false, stderr: 'weft: network RED has active endpoints\n' });
    weftOk(c, 1, ['network', 'disconnect', 'RED', 'container1']);
    const elsewhere = weftOn(c, 1, ['network', 'disconnect', 'RED', 'container3']);
    expect(elsewhere.stderr).toContain('container3 is attached to RED on host h2');
    weftOk(c, 2, ['network', 'disconnect', 'RED', 'container3']);
    expect(tryRun('ip', ['-n', c3.ns.name, 'link', 'show', 'eth0']).ok).toBe(false);
    expect(weftOk(c, 3, ['network', 'rm', 'RED']).trim()).toBe('RED');
    for (const n of [1, 2, 3]) {
      await eventually(
        `RED gone from h${n}`,
        () =>
          !existsSync(join(c.daemon(n).cniConfDir, 'weft-RED.conflist')) &&
          !tryRun('ip', ['-n', c.hosts[n - 1]!.name, 'link', 'show', 'w-RED']).ok,
      );
      expect(weftOk(c, n, ['network', 'ls'])).not.toContain('RED');
    }

    // A host that died leaves its endpoint behind; --force removes the record from any host.
    c.daemon(3).kill();
    expect(weftOk(c, 1, ['network', 'disconnect', '--force', 'BLUE', 'container4'])).toContain('(it was on h3)');
    expect(names(inspect(c, 2, 'BLUE'))).toEqual(['container2@h2', 'container3@h2', 'container5@h1']);
  }, 180_000);
});
