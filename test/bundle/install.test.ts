/**
 * The single executable as it ships: `weft install` puts it where runtimes look and writes the conflist;
 * then a cluster runs from the installed copy alone, and containers started without a network (the
 * `docker run --net=none` way) are attached by hand through it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../helpers/cni.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';
import { ping } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

describe('weft install', () => {
  it('installs the executable and conflist, and a cluster runs from the installed files alone', async () => {
    const d = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}install-`));
    defer(() => rmSync(d, { recursive: true, force: true }));
    const args = [
      'install',
      '--cni-bin-dir',
      join(d, 'bin'),
      '--cni-conf-dir',
      join(d, 'net.d'),
      '--systemd',
      '--systemd-dir',
      join(d, 'systemd'),
      '--systemd-env-file',
      join(d, 'weft.env'),
    ];
    const r = spawnSync(WEFT_BIN, args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^written\s+.*\/bin\/weft/m);
    const installed = join(d, 'bin', 'weft');
    expect(statSync(installed).size).toBe(statSync(WEFT_BIN).size);
    expect(JSON.parse(readFileSync(join(d, 'net.d', '10-weft.conflist'), 'utf8'))).toMatchObject({
      cniVersion: '1.0.0',
      name: 'cbr0',
      plugins: [{ type: 'weft' }],
    });
    expect(readFileSync(join(d, 'systemd', 'weft.service'), 'utf8')).toContain(`ExecStart=${installed} daemon`);
    // Again: the conflist and the executable are unchanged (compared by content, a different file than the running one).
    const again = spawnSync(WEFT_BIN, args, { encoding: 'utf8' }).stdout;
    expect(again).toMatch(/^unchanged\s+.*10-weft\.conflist/m);
    const inode = statSync(installed).ino;
    expect(again).toMatch(/^unchanged\s+.*\/bin\/weft/m);
    expect(statSync(installed).ino).toBe(inode);

    const c = await testCluster('in', { hosts: 2, bin: installed });
    await c.startAll();
    weftOk(c, 1, ['network', 'create', '--subnet', '10.30.0.0/24', 'NONE']);
    for (const n of [1, 2])
      await eventually(`NONE on h${n}`, () => {
        try {
          return readFileSync(join(c.daemon(n).cniConfDir, 'weft-NONE.conflist'), 'utf8');
        } catch {
          return undefined;
        }
      });
    const cni = `${join(d, 'bin')}:/usr/lib/cni`;
    const a = await c.sim.namespace('h1-na');
    const b = await c.sim.namespace('h2-nb');
    weftOk(c, 1, ['network', 'connect', 'NONE', '--netns', a.path, '--name', 'na'], cni);
    const rb = JSON.parse(weftOk(c, 2, ['network', 'connect', 'NONE', '--netns', b.path, '--name', 'nb'], cni)) as {
      ips: Array<{ address: string }>;
    };
    expect(ping(a.name, rb.ips[0]!.address.split('/')[0]!)).toBe(true);
    weftOk(c, 2, ['network', 'disconnect', 'NONE', 'nb'], cni);
  }, 120_000);
});
