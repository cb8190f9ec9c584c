/**
 * Issue 25: weft's DNS servers answer their own containers, not the underlay. A host on the underlay with a
 * route to a network's range (or to the link-local resolver's address) asked the network's gateway, and got
 * its question forwarded to this host's resolvers: an open resolver, and with a forged source, an amplifier.
 * Here a namespace on the underlay that is no container of the network gets REFUSED from both servers and
 * the upstream hears nothing of it, while a container of the network still resolves names and is forwarded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { UPSTREAM_ANSWER } from '../helpers/dns-upstream.ts';
import { defer } from '../helpers/netns.ts';
import { inNetns, run } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

interface DnsResult {
  rcode: number;
  ips: string[];
}

const REFUSED = 5;
const LINK_LOCAL = '169.254.53.53';

const ask = (ns: string, server: string, name: string): DnsResult => {
  const r = inNetns(ns, process.execPath, [join(import.meta.dirname, '../helpers/dns-query.ts'), server, name, 'A', 'udp']);
  if (!r.ok) throw new Error(`DNS A ${name} from ${ns} to ${server}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DnsResult;
};

/** The upstream in namespace `ns`; `heard` lists the names it was asked so far. */
async function upstream(ns: string): Promise<{ heard: string[] }> {
  const heard: string[] = [];
  const p: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, join(import.meta.dirname, '../helpers/dns-upstream.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  defer(() => p.kill('SIGKILL'));
  const lines = createInterface({ input: p.stdout! });
  await new Promise<void>((ready, fail) => {
    p.once('exit', (code) => fail(new Error(`the upstream exited with ${code}`)));
    lines.on('line', (l) => {
      if (l === 'listening') ready();
      else heard.push((JSON.parse(l) as { name: string }).name);
    });
  });
  return { heard };
}

describe('DNS for its own containers only (issue 25)', () => {
  it('REFUSES a namespace on the underlay at the network gateway and the link-local resolver; a container still resolves', async () => {
    const c = await testCluster('secdns');
    const dir = join(c.opts.dir, 'h1');
    // The link-local resolver runs with --docker; the plugin's socket is served without a dockerd behind it.
    const d = await c.addHost(1, [
      '--docker',
      `--docker-plugin-socket=${join(dir, 'plugins', 'weft.sock')}`,
      `--docker-host=unix://${join(dir, 'no-docker.sock')}`,
    ]);
    const up = await c.sim.addHost(8);
    const resolvConf = join(c.opts.dir, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${up.ip}\n`);
    d.binds = [[resolvConf, '/etc/resolv.conf']];
    const upstreamOf = await upstream(up.name);
    await c.startAll();

    weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']);
    await eventually('RED on h1', () => existsSync(join(d.cniConfDir, 'weft-RED.conflist')));
    const ns = await c.sim.namespace('h1-web1');
    const r = JSON.parse(weftOk(c, 1, ['network', 'connect', 'RED', '--netns', ns.path, '--name', 'web1'])) as {
      ips: Array<{ address: string; gateway: string }>;
    };
    const web1 = { ns: ns.name, ip: r.ips[0]!.address.split('/')[0]!, gw: r.ips[0]!.gateway };

    // A container of RED: names from the directory, the rest forwarded, at the gateway and the link-local address.
    await eventually('web1 in the directory', () => ask(web1.ns, web1.gw, 'web1').ips[0] === web1.ip);
    expect(ask(web1.ns, web1.gw, 'from-container.example')).toMatchObject({ rcode: 0, ips: [UPSTREAM_ANSWER] });
    await eventually('the link-local resolver', () => ask(web1.ns, LINK_LOCAL, 'web1').ips[0] === web1.ip);
    expect(ask(web1.ns, LINK_LOCAL, 'from-container-ll.example')).toMatchObject({ rcode: 0, ips: [UPSTREAM_ANSWER] });
    // ask() blocks this process (spawnSync): what the upstream printed is read once the loop runs again.
    await eventually('the upstream heard both', () =>
      ['from-container.example', 'from-container-ll.example'].every((n) => upstreamOf.heard.includes(n)),
    );

    // A neighbour on the underlay with routes to RED's range and to the link-local address through h1.
    const x = await c.sim.addHost(9);
    run('ip', ['-n', x.name, 'route', 'add', '10.10.10.0/24', 'via', c.hosts[0]!.ip]);
    run('ip', ['-n', x.name, 'route', 'add', `${LINK_LOCAL}/32`, 'via', c.hosts[0]!.ip]);
    expect(ask(x.name, web1.gw, 'from-underlay.example')).toMatchObject({ rcode: REFUSED, ips: [] });
    expect(ask(x.name, web1.gw, 'web1')).toMatchObject({ rcode: REFUSED, ips: [] });
    expect(ask(x.name, LINK_LOCAL, 'from-underlay-ll.example')).toMatchObject({ rcode: REFUSED, ips: [] });
    expect(ask(x.name, LINK_LOCAL, 'web1')).toMatchObject({ rcode: REFUSED, ips: [] });
    expect(ask(web1.ns, web1.gw, 'after-underlay.example')).toMatchObject({ rcode: 0 });
    await eventually('the upstream heard the container after the neighbour', () => upstreamOf.heard.includes('after-underlay.example'));
    expect(upstreamOf.heard.filter((n) => n.startsWith('from-underlay'))).toEqual([]);
    expect(d.status).toBe('running');
  });
});
