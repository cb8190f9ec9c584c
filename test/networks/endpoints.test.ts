/**
 * Endpoint registration and its failure modes: a named ADD needs the daemon (code 11 without it, nothing left
 * behind) while an unnamed one does not; CLI errors are one line; endpoint records survive a daemon restart
 * and are repaired from the plugin's local records; the flannel default network is listed as a network.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json } from '../helpers/cni.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';
import { ipJson, ping } from '../helpers/sh.ts';
import { weftOk, weftOn } from '../helpers/weft-cli.ts';

describe('the plugin without the daemon', () => {
  const named = (h: CniHost) => h.conf({ network: 'RED', daemonSocket: join(h.dir, 'no-daemon.sock') });

  it('a named ADD fails with code 11 and says why, leaving nothing behind', () => {
    const h = new CniHost('nd');
    const c = makeNetns('nd-c');
    const r = h.run('ADD', { cid: 'named1', netns: c.path, conf: named(h), args: 'IgnoreUnknown=1;K8S_POD_NAME=web1' });
    expect(r.code).toBe(1);
    const err = json<{ code: number; msg: string }>(r);
    expect(err.code).toBe(11);
    expect(err.msg).toMatch(
      new RegExp(
        '^cannot register web1 on network RED: the weft daemon on this host is not running \\(no socket at .*no-daemon\\.sock\\); ' +
          'start it \\(systemctl start weft, or weft daemon\\)$',
      ),
    );
    expect(ipJson(c.name, ['link', 'show', 'type', 'veth'])).toEqual([]);
    expect(ipJson(h.ns.name, ['link', 'show', 'type', 'veth'])).toEqual([]);
    const ips = join(h.dataDir, 'RED', 'ips');
    expect(existsSync(ips) ? readdirSync(ips).filter((f) => /^\d/.test(f)) : []).toEqual([]);
  });

  it('an unnamed ADD works without it, and DEL too', () => {
    const h = new CniHost('nu');
    const c = makeNetns('nu-c');
    const r = h.run('ADD', { cid: 'unnamed1', netns: c.path, conf: named(h) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('is attached without a name record');
    expect(h.run('DEL', { cid: 'unnamed1', netns: c.path, conf: named(h) }).code).toBe(0);
  });
});

describe('the plugin and a stand-in daemon', () => {
  it('a named DEL marks its record removing before it asks the daemon to remove the name', async () => {
    // The daemon registers again the name of any `added` record etcd lacks: a DEL must not look like one.
    const h = new CniHost('rm');
    const c = makeNetns('rm-c');
    const socket = join(h.dir, 'daemon.sock');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.method === 'DELETE') {
          const dir = join(h.dataDir, 'RED', 'attachments');
          seen.push(...readdirSync(dir).map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { state: string }).state));
        }
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(body || '{}');
      });
    });
    await new Promise<void>((ok) => server.listen(socket, ok));
    try {
      const conf = h.conf({ network: 'RED', daemonSocket: socket });
      const args = 'IgnoreUnknown=1;K8S_POD_NAME=web1';
      const add = await h.start('ADD', { cid: 'rm1', netns: c.path, conf, args }).done;
      expect(add.code, add.stdout + add.stderr).toBe(0);
      const del = await h.start('DEL', { cid: 'rm1', netns: c.path, conf, args }).done;
      expect(del.code, del.stdout + del.stderr).toBe(0);
      expect(seen).toEqual(['removing']);
      expect(readdirSync(join(h.dataDir, 'RED', 'attachments'))).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('named networks, operations', () => {
  it('one-line CLI errors; records survive a restart and are repaired; the default network is listed', async () => {
    const c = await testCluster('ne', { hosts: 2 });
    await c.startAll();

    // The flannel default network is one of the networks.
    expect(weftOk(c, 1, ['network', 'ls'])).toMatch(/^[0-9a-f]{12}\s+default\s+overlay\s+global$/m);

    const bad = [
      [['network', 'inspect', 'NOPE'], 'weft: network NOPE not found\n'],
      [['network', 'rm', 'NOPE'], 'weft: network NOPE not found\n'],
      [['network', 'create', '--subnet', '10.10.0.0/33', 'X'], /^weft: .*10\.10\.0\.0\/33.*\n$/],
      [['network', 'create', '--subnet', '10.10.0.0/24', 'bad name!'], /^weft: .*name.*\n$/],
      [['network', 'create', '--subnet', '10.10.0.0/24', '--vni', '1', 'LOW'], /^weft: .*VNI.*\n$/],
      [['network', 'create', '--subnet', '10.244.5.0/24', 'INSIDE'], /^weft: .*overlaps.*\n$/],
      // Issue 11: a non-numeric or out-of-range number was taken as "not given".
      [['network', 'create', '--subnet', '10.30.0.0/24', '--vni', 'abc', 'ABC'], 'weft: --vni "abc" is not a whole number\n'],
      [['network', 'create', '--subnet', '10.30.0.0/24', '--mtu', '70000', 'ABC'], 'weft: --mtu 70000 must be from 576 to 9000\n'],
    ] as const;
    for (const [args, msg] of bad) {
      const r = weftOn(c, 1, args);
      expect(r.ok, args.join(' ')).toBe(false);
      expect(r.stderr.split('\n').length, r.stderr).toBe(2);
      if (typeof msg === 'string') expect(r.stderr).toBe(msg);
      else expect(r.stderr).toMatch(msg);
    }
    expect(weftOk(c, 1, ['network', 'ls'])).not.toContain('ABC');
    // A user the socket refuses is told so, not that the daemon is down (issue 11).
    const cache = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}nobody-`));
    defer(() => rmSync(cache, { recursive: true, force: true }));
    chownSync(cache, 65534, 65534);
    const nobody = spawnSync(
      'nsenter',
      [
        `--net=${c.daemon(1).host.path}`,
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        c.opts.bin,
        'network',
        'ls',
        '--socket',
        c.daemon(1).socket,
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache },
      },
    );
    expect(nobody.stderr).toBe(
      `weft: permission denied on the weft daemon's socket ${c.daemon(1).socket}: it is root's (mode 0660); run this as root\n`,
    );
    const noDaemon = weftOn(c, 1, ['network', 'ls', '--socket', '/nonexistent/weft.sock']);
    expect(noDaemon).toMatchObject({
      ok: false,
      stderr:
        'weft: the weft daemon on this host is not running (no socket at /nonexistent/weft.sock); ' +
        'start it (systemctl start weft, or weft daemon)\n',
    });

    weftOk(c, 1, ['network', 'create', '--subnet', '10.20.0.0/16', '--host-subnet-len', '26', '--mtu', '1400', 'GREEN']);
    for (const n of [1, 2]) await eventually(`GREEN on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-GREEN.conflist')));
    const a = await c.sim.namespace('h1-ga');
    const b = await c.sim.namespace('h2-gb');
    const ra = JSON.parse(weftOk(c, 1, ['network', 'connect', 'GREEN', '--netns', a.path, '--name', 'ga', '--alias', 'www'])) as {
      ips: Array<{ address: string }>;
    };
    JSON.parse(weftOk(c, 2, ['network', 'connect', 'GREEN', '--netns', b.path, '--name', 'gb']));
    expect(ra.ips[0]!.address).toMatch(/^10\.20\.\d+\.\d+\/26$/);
    expect(ipJson<Array<{ mtu: number }>>(a.name, ['link', 'show', 'eth0'])[0]!.mtu).toBe(1400);
    const ipA = ra.ips[0]!.address.split('/')[0]!;
    const view = () =>
      (
        JSON.parse(weftOk(c, 2, ['network', 'inspect', 'GREEN'])) as Array<{
          Containers: Record<string, { Name: string; Aliases: string[] }>;
        }>
      )[0]!;
    expect(Object.values(view().Containers).find((e) => e.Name === 'ga')?.Aliases).toEqual(['www']);

    // A restarted daemon keeps its networks, leases and endpoints; the data path never depended on it.
    const before = c.daemon(1).subnetEnv().subnet;
    await c.daemon(1).stop();
    expect(ping(b.name, ipA)).toBe(true);
    c.daemon(1).start();
    await c.daemon(1).ready();
    expect(c.daemon(1).subnetEnv().subnet).toBe(before);
    expect(
      Object.values(view().Containers)
        .map((e) => e.Name)
        .sort(),
    ).toEqual(['ga', 'gb']);
    expect(ping(b.name, ipA)).toBe(true);

    // An endpoint record lost from etcd is registered again from the plugin's local record.
    const id = (JSON.parse(weftOk(c, 1, ['network', 'inspect', 'GREEN'])) as Array<{ Id: string }>)[0]!.Id;
    await c.etcd.client.delete(`${c.weftPrefix}/networks/${id}/endpoints/ga`);
    await eventually('ga registered again', () => Object.values(view().Containers).some((e) => e.Name === 'ga'));
    expect(c.daemon(1).log()).toContain('re-registered an endpoint missing from etcd');
  }, 120_000);
});
