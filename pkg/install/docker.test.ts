import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyInstall, planInstall, withoutWeftDns, withWeftDns } from './mod.ts';

describe('weft install --docker', () => {
  it("puts weft's resolver first in dockerd's dns, keeping the rest of the config; undoes exactly that", () => {
    expect(JSON.parse(withWeftDns(undefined)!)).toEqual({ dns: ['169.254.53.53'] });
    const mine = '{"log-driver": "journald", "dns": ["192.0.2.53"]}';
    const merged = withWeftDns(mine)!;
    expect(JSON.parse(merged)).toEqual({ 'log-driver': 'journald', dns: ['169.254.53.53', '192.0.2.53'] });
    expect(withWeftDns(merged)).toBeUndefined();
    expect(JSON.parse(withoutWeftDns(merged)!)).toEqual(JSON.parse(mine));
    expect(JSON.parse(withoutWeftDns(withWeftDns('{}'))!)).toEqual({});
    expect(withoutWeftDns(mine)).toBeUndefined();
  });

  it('refuses a dockerd config it cannot read, naming the file', () => {
    expect(() => withWeftDns('{"dns": ', '/etc/docker/daemon.json')).toThrow(/^\/etc\/docker\/daemon.json is not JSON/);
    expect(() => withWeftDns('{"dns": "192.0.2.53"}', '/x.json')).toThrow('"dns" in /x.json is not a list of addresses');
  });

  it('writes the drop-in and the config, and a second run changes nothing', () => {
    const d = mkdtempSync(join(tmpdir(), 'weft-install-docker-'));
    try {
      const exe = join(d, 'exe');
      writeFileSync(exe, 'binary');
      writeFileSync(join(d, 'daemon.json'), '{"debug": true}\n');
      const plan = () =>
        planInstall(
          {
            executable: exe,
            cniBinDir: join(d, 'bin'),
            cniConfDir: join(d, 'net.d'),
            network: 'cbr0',
            cniVersion: '1.0.0',
            subnetFile: undefined,
            systemdDir: undefined,
            envFile: join(d, 'weft.env'),
            docker: {
              systemdDir: join(d, 'systemd'),
              configPath: join(d, 'daemon.json'),
              configText: readFileSync(join(d, 'daemon.json'), 'utf8'),
            },
          },
          false,
        );
      expect(applyInstall(plan()).map((r) => r.done)).toEqual(['written', 'written', 'written', 'written']);
      expect(readFileSync(join(d, 'systemd/weft.service.d/docker.conf'), 'utf8')).toContain('Environment=WEFT_DOCKER=true');
      expect(JSON.parse(readFileSync(join(d, 'daemon.json'), 'utf8'))).toEqual({ debug: true, dns: ['169.254.53.53'] });
      expect(applyInstall(plan()).map((r) => r.done)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
