/**
 * Container DNS as Docker's embedded DNS serves it (issue 14), through the real daemon: reverse lookups of
 * container addresses answered on the host (a plain `ping NAME` no longer waits for an upstream), and TCP
 * on port 53 as well as UDP.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { inNetns } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

interface DnsResult {
  rcode: number;
  ips: string[];
  names: string[];
}

const ask = (ns: string, server: string, name: string, type: 'A' | 'PTR', transport: 'udp' | 'tcp'): DnsResult => {
  const r = inNetns(ns, process.execPath, [join(import.meta.dirname, '../helpers/dns-query.ts'), server, name, type, transport]);
  if (!r.ok) throw new Error(`DNS ${type} ${name} over ${transport}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DnsResult;
};
const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

describe('container DNS', () => {
  it('answers reverse lookups of container addresses, and over TCP too', async () => {
    const c = await testCluster('dns', { hosts: 2 });
    await c.startAll();
    weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']);
    weftOk(c, 1, ['network', 'create', '--subnet', '10.10.20.0/24', 'BLUE']);
    for (const n of [1, 2]) await eventually(`BLUE on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-BLUE.conflist')));
    const attach = async (n: number, net: string, name: string) => {
      const ns = await c.sim.namespace(`h${n}-${name}`);
      const r = JSON.parse(weftOk(c, n, ['network', 'connect', net, '--netns', ns.path, '--name', name])) as {
        ips: Array<{ address: string; gateway: string }>;
      };
      return { ns: ns.name, ip: r.ips[0]!.address.split('/')[0]!, gw: r.ips[0]!.gateway };
    };
    const web1 = await attach(1, 'RED', 'web1');
    const web2 = await attach(2, 'RED', 'web2');
    const db = await attach(2, 'BLUE', 'db');
    await eventually('web2 in the directory of h1', () => ask(web1.ns, web1.gw, 'web2', 'A', 'udp').ips[0] === web2.ip);

    // PTR: a shared network's container by name.network; another network's hidden; both answered here.
    expect(ask(web1.ns, web1.gw, reverse(web2.ip), 'PTR', 'udp')).toMatchObject({ rcode: 0, names: ['web2.RED'] });
    expect(ask(web1.ns, web1.gw, reverse(db.ip), 'PTR', 'udp')).toMatchObject({ rcode: 3, names: [] });
    expect(ask(web1.ns, web1.gw, reverse('10.10.10.250'), 'PTR', 'udp')).toMatchObject({ rcode: 3 });

    // TCP on port 53 answers what UDP answers.
    expect(ask(web1.ns, web1.gw, 'web2', 'A', 'tcp')).toMatchObject({ rcode: 0, ips: [web2.ip] });
    expect(ask(web1.ns, web1.gw, reverse(web2.ip), 'PTR', 'tcp')).toMatchObject({ names: ['web2.RED'] });
    expect(ask(web1.ns, web1.gw, 'db', 'A', 'tcp')).toMatchObject({ rcode: 3 });
  });
});
