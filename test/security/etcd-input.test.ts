/**
 * Everything read from etcd is untrusted input (issue 25, part 3): network and endpoint records written
 * straight into etcd, past the API, as a holder of any node's etcd credentials could. A name carrying
 * nftables syntax was pasted into the isolation script that `nft -f` runs as root on every host (the table
 * `weftpwn` appeared on both hosts before the fix); a name with `../` built file paths outside the daemon's
 * directories; a bad range or VNI reached the agent. Now each such record is refused and logged once with
 * its key and why, and never reaches the agent, the firewall, DNS or a file path, while the legitimate
 * networks keep working and new ones are still served. A network's flannel config rewritten in etcd is not
 * served either: its agent serves the config its (judged) record implies.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { inNetns, ipJson, ping, run } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

/** The injection: ends the comment, the chain and the table, and opens a table of its own. */
const INJECT = 'x" ; } ; } ; table ip weftpwn { chain c { counter comment "y';

const idOf = (n: number) => `${'e7'.repeat(31)}${n.toString(16).padStart(2, '0')}`;

interface Hostile {
  readonly id: string;
  readonly name: string;
  readonly subnet: string;
  readonly vni: number;
  /** What the refusal says. */
  readonly why: string;
}

const HOSTILE: readonly Hostile[] = [
  { id: idOf(1), name: INJECT, subnet: '10.31.0.0/24', vni: 4301, why: 'invalid network name' },
  { id: idOf(2), name: '../../../escaped', subnet: '10.32.0.0/24', vni: 4302, why: 'invalid network name' },
  { id: idOf(3), name: 'badcidr', subnet: '10.33.0.1/24', vni: 4303, why: 'has host bits set' },
  { id: idOf(4), name: 'bigvni', subnet: '10.34.0.0/24', vni: 16777216, why: 'must be from 1 to 16777215' },
  // Another network's name, and another's range: refused as `network create` refuses them.
  { id: idOf(5), name: 'RED', subnet: '10.35.0.0/24', vni: 4305, why: 'network with name RED already exists' },
  { id: idOf(6), name: 'shadow', subnet: '10.10.10.0/25', vni: 4306, why: 'overlaps with network RED' },
];

const meta = (h: Hostile) =>
  JSON.stringify({
    Name: h.name,
    Id: h.id,
    Created: '2026-12-07T00:00:00Z',
    Driver: 'overlay',
    Scope: 'global',
    Subnet: h.subnet,
    VNI: h.vni,
    HostSubnetLen: 27,
  });
const config = (h: Hostile) => JSON.stringify({ Network: h.subnet, SubnetLen: 27, Backend: { Type: 'vxlan', VNI: h.vni } });

const endpoint = (networkId: string, name: string, ip: string) =>
  JSON.stringify({
    Name: name,
    EndpointID: 'f'.repeat(64),
    NetworkID: networkId,
    Network: 'RED',
    Host: 'h9',
    HostIP: '192.0.2.9',
    ContainerID: `c-${name.replace(/[^a-z0-9]/g, '')}`,
    Interface: 'eth0',
    IPv4Address: `${ip}/24`,
    IPv6Address: '',
    MacAddress: '02:42:0a:0a:0a:63',
    Aliases: [],
    Created: '2026-12-07T00:00:00Z',
  });

interface DnsResult {
  rcode: number;
  ips: string[];
}
const ask = (ns: string, server: string, name: string): DnsResult => {
  const r = inNetns(ns, process.execPath, [join(import.meta.dirname, '../helpers/dns-query.ts'), server, name, 'A', 'udp']);
  if (!r.ok) throw new Error(`DNS A ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DnsResult;
};

/** Every path under `dir`. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

const linesWith = (log: string, text: string) => log.split('\n').filter((l) => l.includes(text));

describe('records written straight into etcd', () => {
  it('a hostile network or endpoint record is refused, logged once, and reaches no host; the others keep working', async () => {
    const c = await testCluster('ei', { hosts: 2 });
    await c.startAll();
    const red = weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']).trim();
    for (const n of [1, 2]) await eventually(`RED on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-RED.conflist')));
    const attach = async (n: number, name: string) => {
      const ns = await c.sim.namespace(`h${n}-${name}`);
      const r = JSON.parse(weftOk(c, n, ['network', 'connect', 'RED', '--netns', ns.path, '--name', name])) as {
        ips: Array<{ address: string; gateway: string }>;
      };
      return { ns: ns.name, ip: r.ips[0]!.address.split('/')[0]!, gw: r.ips[0]!.gateway };
    };
    const web1 = await attach(1, 'web1');
    const web2 = await attach(2, 'web2');

    const put = (k: string, v: string) => c.etcd.client.put(`${c.weftPrefix}/networks/${k}`, v);
    for (const h of HOSTILE) {
      await put(`${h.id}/config`, config(h));
      await put(`${h.id}/meta`, meta(h));
    }
    // A meta at one network's key claiming another ID (it would run on another network's leases).
    await put(`${idOf(7)}/meta`, meta({ ...HOSTILE[0]!, id: idOf(8), name: 'elsewhere', subnet: '10.37.0.0/24', vni: 4307 }));
    // Endpoints on RED: outside its range (DNS would send RED's containers to 192.0.2.99), a name DNS
    // cannot carry, and a record under one name's key claiming another's name.
    const ep = (k: string, v: string) => put(`${red}/endpoints/${k}`, v);
    await ep('hijack', endpoint(red, 'hijack', '192.0.2.99'));
    await ep('evil', endpoint(red, 'evil;$(reboot)', '10.10.10.98'));
    await ep('impostor', endpoint(red, 'web2', '10.10.10.97'));

    // A network created after them is served on every host: the daemons kept going past them.
    weftOk(c, 1, ['network', 'create', '--subnet', '10.10.20.0/24', 'GREEN']);
    for (const n of [1, 2]) await eventually(`GREEN on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-GREEN.conflist')));

    for (const [n, host] of c.hosts.entries()) {
      const h = host!.name;
      // The injection never ran: no table of its own, and the isolation table names only real networks.
      expect(run('ip', ['netns', 'exec', h, 'nft', 'list', 'tables'])).not.toContain('weftpwn');
      const isolation = run('ip', ['netns', 'exec', h, 'nft', 'list', 'table', 'inet', 'weft_isolation']);
      expect(isolation).toContain('10.10.10.0/24');
      expect(isolation).toContain('10.10.20.0/24');
      for (const r of ['10.31.', '10.32.', '10.33.', '10.34.', '10.35.', '10.10.10.0/25', '10.37.']) expect(isolation).not.toContain(r);
      // No agent ran for any of them: no VXLAN device, no bridge, no conflist.
      const links = ipJson<Array<{ ifname: string }>>(h, ['link', 'show']).map((l) => l.ifname);
      for (const v of [...HOSTILE.map((x) => x.vni), 4307]) expect(links).not.toContain(`weft.${v}`);
      expect(links.filter((l) => l.startsWith('w-')).sort()).toEqual(['w-GREEN', 'w-RED']);
      expect(readdirSync(c.daemon(n + 1).cniConfDir).sort()).toEqual(['weft-GREEN.conflist', 'weft-RED.conflist']);

      // Each refusal is logged once, with its key and why.
      const log = c.daemon(n + 1).log();
      for (const x of HOSTILE) {
        const key = `${c.weftPrefix}/networks/${x.id}/meta`;
        const said = linesWith(log, `refusing the network record ${key}`);
        expect(said, `${key} on ${h}`).toHaveLength(1);
        expect(said[0]).toContain(x.why);
      }
      expect(linesWith(log, `refusing the network record ${c.weftPrefix}/networks/${idOf(7)}/meta`)).toEqual([
        expect.stringContaining(`its ID ${idOf(8)} is not the one in its key`),
      ]);
      for (const [k, why] of [
        ['hijack', 'is not in the network'],
        ['evil', 'invalid name'],
        ['impostor', 'not the one in its key'],
      ] as const) {
        const said = linesWith(log, `refusing the endpoint record ${c.weftPrefix}/networks/${red}/endpoints/${k}`);
        expect(said, `${k} on ${h}`).toHaveLength(1);
        expect(said[0]).toContain(why);
      }
    }
    // Nothing was written outside the daemons' directories.
    expect(walk(c.opts.dir).filter((p) => p.includes('escaped'))).toEqual([]);
    expect(weftOk(c, 2, ['network', 'ls', '--format', '{{.Name}}'])).toBe('default\nGREEN\nRED\n');

    // RED works: across hosts, and by name; the hostile endpoints answer nothing.
    expect(ping(web1.ns, web2.ip)).toBe(true);
    expect(ask(web1.ns, web1.gw, 'web2')).toMatchObject({ rcode: 0, ips: [web2.ip] });
    expect(ask(web1.ns, web1.gw, 'hijack')).toMatchObject({ rcode: 3, ips: [] });
    expect(ask(web1.ns, web1.gw, 'impostor')).toMatchObject({ rcode: 3, ips: [] });

    // RED's flannel config rewritten past the API (another range, a learning VTEP): a host starting RED
    // again serves the config RED's record implies, and says so once.
    await put(`${red}/config`, JSON.stringify({ Network: '10.99.0.0/16', Backend: { Type: 'vxlan', VNI: 256, Learning: true } }));
    await c.daemon(2).stop();
    c.daemon(2).start();
    await c.daemon(2).ready();
    const redEnv = join(c.daemon(2).dir, 'run', 'networks', 'RED.env');
    await eventually('RED served on h2 again', () => existsSync(redEnv) && ping(web1.ns, web2.ip));
    expect(readFileSync(redEnv, 'utf8')).toMatch(/^FLANNEL_NETWORK=10\.10\.10\.0\/24$/m);
    expect(linesWith(c.daemon(2).log(), `ignoring the network config ${c.weftPrefix}/networks/${red}/config`)).toEqual([
      expect.stringContaining('it is not the config its meta implies'),
    ]);
    const vxlan = ipJson<Array<{ linkinfo: { info_data: { learning?: boolean } } }>>(c.hosts[1]!.name, ['link', 'show', 'weft.256'], true);
    expect(vxlan[0]!.linkinfo.info_data.learning).toBe(false);
  });
});
