/**
 * podman 4 with the CNI backend runs containers on a weft network (checklist R2): `podman network ls`
 * accepts the conflist (it validates the plugin with VERSION), `podman run --network` gets a weft address
 * reachable from the host side, and `podman rm` releases it. Conflists at 0.4.0 (what podman writes) and
 * 1.0.0.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost } from '../helpers/cni.ts';
import { Podman } from '../helpers/podman.ts';
import { ipJson, ping } from '../helpers/sh.ts';

const held = (h: CniHost) =>
  existsSync(join(h.dataDir, '_default/ips')) ? readdirSync(join(h.dataDir, '_default/ips')).filter((f) => !f.startsWith('last_')) : [];

describe('podman', () => {
  for (const version of ['0.4.0', '1.0.0']) {
    it(`runs a container on a ${version} weft network, reachable from the host, released by podman rm`, () => {
      const h = new CniHost(`pm${version.replace(/\./g, '')}`);
      const pm = new Podman(h);
      pm.network('weftnet', version);
      const ls = pm.podman(['network', 'ls', '--format', '{{.Name}}']);
      expect(ls.stdout.split('\n')).toContain('weftnet');

      const started = pm.run(['-d', '--name', 'web', '--network', 'weftnet'], ['/bin/sleep', '300']);
      expect(started.ok, started.stderr).toBe(true);
      const ip = pm.podman(['inspect', '--format', '{{(index .NetworkSettings.Networks "weftnet").IPAddress}}', 'web']).stdout.trim();
      expect(ip).toMatch(/^10\.244\.1\.\d+$/);
      expect(held(h)).toEqual([ip]);
      expect(ping(h.ns.name, ip)).toBe(true);
      const inside = pm.podman(['exec', 'web', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      expect(inside.stdout).toContain(`${ip}/24`);

      expect(pm.podman(['rm', '--force', '--time', '0', 'web']).ok).toBe(true);
      expect(held(h)).toEqual([]);
      expect(
        ipJson<Array<{ ifname: string }>>(h.ns.name, ['link', 'show'])
          .map((l) => l.ifname)
          .filter((n) => n.startsWith('veth')),
      ).toEqual([]);
    });
  }

  it('runs two containers that reach each other over the weft bridge, with --rm cleaning up', () => {
    const h = new CniHost('pmpair');
    const pm = new Podman(h);
    pm.network('weftnet', '0.4.0');
    expect(pm.run(['-d', '--name', 'server', '--network', 'weftnet'], ['/bin/sh', '-c', 'echo hello-from-weft | nc -l -p 8080']).ok).toBe(
      true,
    );
    const ip = pm.podman(['inspect', '--format', '{{(index .NetworkSettings.Networks "weftnet").IPAddress}}', 'server']).stdout.trim();
    const client = pm.run(['--rm', '--network', 'weftnet'], ['/bin/sh', '-c', `sleep 0.5; nc -w 3 ${ip} 8080`]);
    expect(client.stdout.trim()).toBe('hello-from-weft');
    pm.podman(['rm', '--force', '--time', '0', 'server']);
    expect(held(h)).toEqual([]);
  });
});
