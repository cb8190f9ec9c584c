/**
 * A dual-stack named network (issue 15), Docker's form: `weft network create --ipv6 --subnet 10.x --subnet
 * fd00:x`. Hosts with an IPv4 underlay only: the IPv6 half travels in the network's one VTEP. Containers get
 * both families, reach each other over both, and find each other by name over both (A and AAAA, answered
 * on the bridge's IPv6 address too); inspect and ls show both ranges; bad requests are refused. And an
 * IPv6-only network (`--ipv6` with an IPv6 --subnet alone), its containers IPv6 only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import type { Check } from '../../pkg/doctor/mod.ts';
import { inNetns, ipJson, ping } from '../helpers/sh.ts';
import { weftOk, weftOn } from '../helpers/weft-cli.ts';

interface DnsResult {
  rcode: number;
  ips: string[];
  ips6?: string[];
  names: string[];
}

const ask = (ns: string, server: string, name: string, type: 'A' | 'AAAA' | 'PTR'): DnsResult => {
  const r = inNetns(ns, process.execPath, [join(import.meta.dirname, '../helpers/dns-query.ts'), server, name, type, 'udp']);
  if (!r.ok) throw new Error(`DNS ${type} ${name} at ${server}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DnsResult;
};

describe('a dual-stack named network', () => {
  it('gives containers both families over an IPv4 underlay, names answering A and AAAA', async () => {
    const c = await testCluster('nd', { hosts: 2 });
    await c.startAll();
    weftOk(c, 1, ['network', 'create', '--ipv6', '--subnet', '10.70.0.0/24', '--subnet', 'fd00:70::/64', 'DS']);
    for (const n of [1, 2]) await eventually(`DS on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-DS.conflist')));
    const attach = async (n: number, name: string) => {
      const ns = await c.sim.namespace(`h${n}-${name}`);
      const r = JSON.parse(weftOk(c, n, ['network', 'connect', 'DS', '--netns', ns.path, '--name', name])) as {
        ips: Array<{ address: string; gateway: string }>;
      };
      const [v4, v6] = [r.ips.find((i) => !i.address.includes(':'))!, r.ips.find((i) => i.address.includes(':'))!];
      return { ns: ns.name, ip: v4.address.split('/')[0]!, gw: v4.gateway, ip6: v6.address.split('/')[0]!, gw6: v6.gateway };
    };
    const web1 = await attach(1, 'web1');
    const web2 = await attach(2, 'web2');
    // Each host's IPv6 part of a /64 range is a /80 (16 bits more: a /64 each only from a /56 up).
    expect(web1.ip6).toMatch(/^fd00:70::[0-9a-f:]+$/);
    expect(ipJson(web1.ns, ['-6', 'addr', 'show', 'eth0'])).toEqual([
      expect.objectContaining({ addr_info: expect.arrayContaining([expect.objectContaining({ local: web1.ip6, prefixlen: 80 })]) }),
    ]);

    // both families cross, with no IPv6 underlay and no second device
    expect(ping(web1.ns, web2.ip)).toBe(true);
    expect(ping(web1.ns, web2.ip6)).toBe(true);
    expect(ping(web2.ns, web1.ip6)).toBe(true);
    const h1 = c.hosts[0]!.name;
    expect(ipJson<Array<{ ifname: string }>>(h1, ['link', 'show']).map((l) => l.ifname)).not.toContain('weft6.256');
    const routes6 = ipJson<Array<{ dst: string; dev: string; flags: string[] }>>(h1, ['-6', 'route', 'show', 'dev', 'weft.256']);
    expect(routes6.filter((r) => r.dst.startsWith('fd00:70:'))).toEqual([expect.objectContaining({ flags: ['onlink'] })]);

    // doctor sees both families' entries on the one VTEP, and both gateways on the bridge
    const checks = JSON.parse(weftOn(c, 1, ['doctor', '--json', '--network', 'DS']).stdout) as Check[];
    expect(checks.filter((k) => ['vxlan-device', 'peers', 'bridge'].includes(k.check)).map((k) => `${k.status} ${k.check}`)).toEqual([
      'ok vxlan-device',
      'ok peers',
      'ok bridge',
    ]);

    // names: A and AAAA, from the IPv4 server and the IPv6 one on the bridge
    await eventually('web2 in the directory of h1', () => ask(web1.ns, web1.gw, 'web2', 'A').ips[0] === web2.ip);
    expect(ask(web1.ns, web1.gw, 'web2', 'AAAA')).toMatchObject({ rcode: 0, ips6: [web2.ip6] });
    expect(ask(web1.ns, web1.gw6, 'web2.DS', 'AAAA')).toMatchObject({ rcode: 0, ips6: [web2.ip6] });
    expect(ask(web1.ns, web1.gw6, 'web2', 'A')).toMatchObject({ rcode: 0, ips: [web2.ip] });

    // inspect and ls show both ranges
    const [view] = JSON.parse(weftOk(c, 2, ['network', 'inspect', 'DS'])) as Array<{
      EnableIPv6: boolean;
      IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
      Containers: Record<string, { Name: string; IPv6Address: string }>;
    }>;
    expect(view!.EnableIPv6).toBe(true);
    expect(view!.IPAM.Config.map((x) => x.Subnet)).toEqual(['10.70.0.0/24', 'fd00:70::/64']);
    expect(Object.values(view!.Containers).map((x) => x.IPv6Address)).toContain(`${web2.ip6}/64`);
    expect(weftOk(c, 1, ['network', 'ls', '--filter', 'name=DS', '--format', '{{.Name}} {{.IPv6}} {{.Subnet}}'])).toBe(
      'DS true 10.70.0.0/24,fd00:70::/64\n',
    );

    // refusals, each one readable line, nothing created
    const refused = (args: string[]) => {
      const r = weftOn(c, 1, ['network', 'create', ...args]);
      expect(r.ok).toBe(false);
      return r.stderr.trim();
    };
    expect(refused(['--subnet', '10.71.0.0/24', '--subnet', 'fd00:71::/64', 'X'])).toContain('pass --ipv6');
    expect(refused(['--ipv6', '--subnet', '10.71.0.0/24', 'X'])).toContain('--ipv6 needs an IPv6 --subnet');
    expect(refused(['--ipv6', '--subnet', '10.71.0.0/24', '--subnet', 'fd00:70:0:0:1::/80', 'X'])).toContain('/64 or larger');
    expect(refused(['--ipv6', '--subnet', '10.71.0.0/24', '--subnet', 'fd00:70::/48', 'X'])).toContain('overlaps with network DS');
    expect(weftOk(c, 1, ['network', 'ls', '--format', '{{.Name}}'])).not.toContain('X');
  });

  it('an IPv6-only network: containers with IPv6 alone reach each other across hosts and by name (AAAA)', async () => {
    const c = await testCluster('n6', { hosts: 2 });
    await c.startAll();
    weftOk(c, 1, ['network', 'create', '--ipv6', '--subnet', 'fd00:72::/56', 'SIX']);
    for (const n of [1, 2]) await eventually(`SIX on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-SIX.conflist')));
    const attach = async (n: number, name: string) => {
      const ns = await c.sim.namespace(`h${n}-${name}`);
      const r = JSON.parse(weftOk(c, n, ['network', 'connect', 'SIX', '--netns', ns.path, '--name', name])) as {
        ips: Array<{ address: string; gateway: string }>;
      };
      expect(r.ips).toHaveLength(1);
      return { ns: ns.name, ip6: r.ips[0]!.address.split('/')[0]!, gw6: r.ips[0]!.gateway, cidr: r.ips[0]!.address };
    };
    const a = await attach(1, 'six1');
    const b = await attach(2, 'six2');
    // a /64 of the /56 per host
    expect(a.cidr).toMatch(/^fd00:72:0:[0-9a-f]{1,2}::[0-9a-f]+\/64$/);
    expect(ipJson(a.ns, ['-4', 'addr', 'show', 'eth0'])).toEqual([]);
    expect(ping(a.ns, b.ip6)).toBe(true);
    expect(ping(b.ns, a.ip6)).toBe(true);
    await eventually('six2 in the directory of h1', () => ask(a.ns, a.gw6, 'six2', 'AAAA').ips6?.[0] === b.ip6);
    expect(ask(a.ns, a.gw6, 'six2', 'A')).toMatchObject({ rcode: 0, ips: [] });
    const checks = JSON.parse(weftOn(c, 1, ['doctor', '--json', '--network', 'SIX']).stdout) as Check[];
    expect(checks.filter((k) => ['vxlan-device', 'peers', 'bridge'].includes(k.check)).map((k) => `${k.status} ${k.check}`)).toEqual([
      'ok vxlan-device',
      'ok peers',
      'ok bridge',
    ]);

    // its keys: flannel's empty IPv4 half, then each host's /64
    const keys = (await c.etcd.client.getPrefix(`${c.weftPrefix}/networks/`)).kvs
      .map((kv) => kv.key.toString())
      .filter((k) => k.includes('/subnets/'));
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k).toMatch(/\/subnets\/0\.0\.0\.0-0&fd00:72:0:[0-9a-f]{1,2}::-64$/);
    const [view] = JSON.parse(weftOk(c, 1, ['network', 'inspect', 'SIX'])) as Array<{
      EnableIPv6: boolean;
      IPAM: { Config: Array<{ Subnet: string }> };
      Containers: Record<string, { IPv4Address: string; IPv6Address: string }>;
    }>;
    expect(view).toMatchObject({ EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:72::/56' }] } });
    expect(Object.values(view!.Containers).map((x) => [x.IPv4Address, x.IPv6Address])).toContainEqual(['', `${b.ip6}/56`]);
  });
});
