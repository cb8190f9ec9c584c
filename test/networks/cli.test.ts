/**
 * `weft network` as scripts written for `docker network` use it (issue 14), through the real executable on
 * simulated hosts: ls's --format/--filter/-q/--no-trunc, inspect's -f and its several-networks behaviour,
 * the default network and ID prefixes, addresses with the network's prefix, each host's gateway, the list
 * and remove aliases, prune, the bare command, and a refused duplicate name said once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { weftOk, weftOn } from '../helpers/weft-cli.ts';

describe('weft network, the Docker dialect', () => {
  it('ls, inspect, prune and friends take what docker network takes', async () => {
    const c = await testCluster('cli', { hosts: 2 });
    await c.startAll();
    const red = weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']).trim();
    const blue = weftOk(c, 1, ['network', 'create', '--subnet', '10.10.20.0/24', 'BLUE']).trim();
    for (const n of [1, 2]) await eventually(`RED on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-RED.conflist')));

    // ls: the table as Docker aligns it, templates, json lines, filters, -q, --no-trunc, the list alias.
    const table = weftOk(c, 1, ['network', 'ls']);
    expect(table.split('\n')[0]).toBe('NETWORK ID     NAME      DRIVER    SCOPE');
    expect(table).toMatch(new RegExp(`^${red.slice(0, 12)}   RED       overlay   global$`, 'm'));
    expect(weftOk(c, 2, ['network', 'list', '--format', '{{.Name}}\\t{{.Subnet}}', '--filter', 'name=RED'])).toBe('RED\t10.10.10.0/24\n');
    expect(weftOk(c, 1, ['network', 'ls', '--format', 'table {{.Name}}\\t{{.Subnet}}', '-f', 'driver=overlay', '-f', 'name=E'])).toBe(
      'NAME      SUBNET\nBLUE      10.10.20.0/24\nRED       10.10.10.0/24\n',
    );
    const lines = weftOk(c, 1, ['network', 'ls', '--format', 'json', '--filter', `id=${blue.slice(0, 8)}`])
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as Record<string, string>)).toEqual([
      expect.objectContaining({ ID: blue.slice(0, 12), Name: 'BLUE', Driver: 'overlay', Scope: 'global', Subnet: '10.10.20.0/24' }),
    ]);
    expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual([...Object.keys(JSON.parse(lines[0]!) as object)].sort());
    expect(weftOk(c, 1, ['network', 'ls', '-q', '--no-trunc', '--filter', 'name=RED'])).toBe(`${red}\n`);
    expect(weftOk(c, 1, ['network', 'ls', '-q', '--filter', 'name=NOTHING'])).toBe('');
    expect(weftOn(c, 1, ['network', 'ls', '--filter', 'colour=red'])).toMatchObject({
      ok: false,
      stderr: "weft: invalid filter 'colour' (there are name, id, driver, scope)\n",
    });
    expect(weftOn(c, 1, ['network', 'ls', '--format', '{{.Colour}}'])).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/no field Colour/),
    });

    // A container on each host; inspect shows addresses with the network's prefix and each host's gateway.
    const ns1 = await c.sim.namespace('h1-web1');
    const ns2 = await c.sim.namespace('h2-web2');
    weftOk(c, 1, ['network', 'connect', 'RED', '--netns', ns1.path, '--name', 'web1']);
    weftOk(c, 2, ['network', 'connect', 'RED', '--netns', ns2.path, '--name', 'web2']);
    const [view] = JSON.parse(weftOk(c, 2, ['network', 'inspect', red.slice(0, 6)])) as Array<{
      Name: string;
      Containers: Record<string, { Name: string; IPv4Address: string }>;
      Peers: Array<{ Name: string; IP: string; Gateway: string }>;
    }>;
    expect(view!.Name).toBe('RED');
    for (const e of Object.values(view!.Containers)) expect(e.IPv4Address).toMatch(/^10\.10\.10\.\d+\/24$/);
    expect(view!.Peers).toHaveLength(2);
    // Each host's containers use the first address of its own subnet as their gateway.
    for (const p of view!.Peers) {
      const [a, b, cc, dd] = p.Name.split('/')[0]!.split('.').map(Number) as [number, number, number, number];
      expect(p.Gateway).toBe(`${a}.${b}.${cc}.${dd + 1}`);
    }

    // inspect -f, several networks with one missing (printed: the others; stderr: the missing; exit 1).
    expect(weftOk(c, 1, ['network', 'inspect', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}', 'RED', 'BLUE'])).toBe(
      'RED 10.10.10.0/24\nBLUE 10.10.20.0/24\n',
    );
    expect(weftOk(c, 1, ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'RED'])).toMatch(
      /^(web1 web2|web2 web1) \n$/,
    );
    const partial = weftOn(c, 1, ['network', 'inspect', '--format', '{{.Name}}', 'RED', 'NOPE']);
    expect(partial).toMatchObject({ ok: false, code: 1, stdout: 'RED\n', stderr: 'weft: network NOPE not found\n' });
    expect(JSON.parse(weftOn(c, 1, ['network', 'inspect', 'NOPE']).stdout)).toEqual([]);

    // The default network, listed by ls, is inspectable by name and by ID prefix.
    const defaultId = weftOk(c, 1, ['network', 'ls', '-q', '--no-trunc', '--filter', 'name=default']).trim();
    const [d] = JSON.parse(weftOk(c, 1, ['network', 'inspect', 'default'])) as Array<{
      Id: string;
      IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
      Peers: unknown[];
    }>;
    expect(d!.Id).toBe(defaultId);
    expect(d!.IPAM.Config[0]!.Subnet).toBe('10.244.0.0/16');
    expect(d!.Peers).toHaveLength(2);
    expect(weftOk(c, 2, ['network', 'inspect', '-f', '{{.Name}}', defaultId.slice(0, 10)])).toBe('default\n');

    // A name taken on the network is refused once, plainly.
    const ns3 = await c.sim.namespace('h2-web1b');
    const dup = weftOn(c, 2, ['network', 'connect', 'RED', '--netns', ns3.path, '--name', 'web1']);
    expect(dup.ok).toBe(false);
    expect(dup.stderr).toBe('weft: service endpoint with name web1 already exists\n');

    // Bare `weft network` lists its commands; prune removes what has no endpoints, with the remove alias.
    const bare = weftOn(c, 1, ['network']);
    expect(bare.ok).toBe(true);
    expect(bare.stdout).toMatch(/weft network ls .*\[aliases: list\]/);
    expect(bare.stdout).toContain('weft network prune');
    const asked = weftOn(c, 1, ['network', 'prune'], undefined, 'n\n');
    expect(asked.stdout).toMatch(/^WARNING! This will remove all weft networks without endpoints.*\n.*\[y\/N\] $/);
    expect(weftOk(c, 1, ['network', 'ls', '--format', '{{.Name}}'])).toBe('default\nBLUE\nRED\n');
    expect(weftOk(c, 1, ['network', 'prune', '-f'])).toBe('Deleted Networks:\nBLUE\n\n');
    expect(weftOk(c, 1, ['network', 'ls', '--format', '{{.Name}}'])).toBe('default\nRED\n');
    weftOk(c, 1, ['network', 'disconnect', 'RED', 'web1']);
    weftOk(c, 2, ['network', 'disconnect', 'RED', 'web2']);
    expect(weftOk(c, 1, ['network', 'remove', 'RED'])).toBe('RED\n');
  });
});
