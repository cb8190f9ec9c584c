import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyInstall, checkConflist, conflistFor, ENV_TEXT, planInstall, shadowing, unitText } from './mod.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-install-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('weft install', () => {
  it('deploy/systemd holds exactly what weft install writes', () => {
    const root = resolve(import.meta.dirname, '../..');
    expect(readFileSync(join(root, 'deploy/systemd/weft.service'), 'utf8')).toBe(unitText('/opt/cni/bin/weft'));
    expect(readFileSync(join(root, 'deploy/systemd/weft.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it('a conflist flannel users know: weft first, portmap only when it is installed', () => {
    expect(conflistFor({ network: 'cbr0', cniVersion: '1.0.0', subnetFile: undefined }, true)).toEqual({
      cniVersion: '1.0.0',
      name: 'cbr0',
      plugins: [
        { type: 'weft', hairpinMode: true, isDefaultGateway: true },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
    expect((conflistFor({ network: 'n', cniVersion: '0.4.0', subnetFile: '/run/x.env' }, false).plugins as unknown[]).length).toBe(1);
  });

  it("copies the executable and writes the conflist atomically, idempotently, keeping the operator's env file", () => {
    const d = tmp();
    const exe = join(d, 'exe');
    writeFileSync(exe, 'binary', { mode: 0o700 });
    writeFileSync(join(d, 'weft.env'), 'MINE=1\n');
    const opts = {
      executable: exe,
      cniBinDir: join(d, 'bin'),
      cniConfDir: join(d, 'net.d'),
      network: 'cbr0',
      cniVersion: '1.0.0',
      subnetFile: undefined,
      systemdDir: join(d, 'systemd'),
      envFile: join(d, 'weft.env'),
    };
    const first = applyInstall(planInstall(opts, false)).map((r) => r.done);
    expect(first).toEqual(['written', 'written', 'written', 'kept']);
    expect(statSync(join(d, 'bin/weft')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(d, 'weft.env'), 'utf8')).toBe('MINE=1\n');
    const unit = readFileSync(join(d, 'systemd/weft.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${join(d, 'bin/weft')} daemon`);
    // The unit reads the environment file it was given, and waits for the daemon's readiness (issue 13).
    expect(unit).toContain(`EnvironmentFile=-${join(d, 'weft.env')}`);
    expect(unit).toMatch(/^Type=notify$/m);
    // Compared by content: the same executable again is left alone (same inode); a new one replaces it.
    const inode = statSync(join(d, 'bin/weft')).ino;
    expect(applyInstall(planInstall(opts, false)).map((r) => r.done)).toEqual(['unchanged', 'unchanged', 'unchanged', 'kept']);
    expect(statSync(join(d, 'bin/weft')).ino).toBe(inode);
    chmodSync(join(d, 'bin/weft'), 0o700);
    expect(applyInstall(planInstall(opts, false))[0]!.done).toBe('written');
    expect(statSync(join(d, 'bin/weft')).mode & 0o777).toBe(0o755);
    writeFileSync(exe, 'binarY', { mode: 0o700 });
    expect(applyInstall(planInstall(opts, false))[0]!.done).toBe('written');
    expect(readFileSync(join(d, 'bin/weft'), 'utf8')).toBe('binarY');
    writeFileSync(join(d, 'net.d/05-other.conflist'), '{}');
    writeFileSync(join(d, 'net.d/99-later.conflist'), '{}');
    expect(shadowing(join(d, 'net.d'))).toEqual(['05-other.conflist']);
  });

  it("installs a given conflist (a ConfigMap's) after checking it, and refuses one that is not a conflist", () => {
    const d = tmp();
    const given = '{"name":"cbr0","cniVersion":"1.0.0","plugins":[{"type":"weft"}]}';
    const opts = {
      executable: join(d, 'x'),
      cniBinDir: join(d, 'bin'),
      cniConfDir: join(d, 'net.d'),
      network: 'ignored',
      cniVersion: '1.0.0',
      subnetFile: undefined,
      conflist: given,
      systemdDir: undefined,
      envFile: '',
    };
    expect(JSON.parse(planInstall(opts, true)[1]!.text!)).toEqual(JSON.parse(given));
    expect(() => checkConflist('{"name":"x"}', 'cni-conf.json')).toThrow(
      'cni-conf.json is not a conflist: it needs "name", "cniVersion" and a non-empty "plugins" list',
    );
    expect(() => checkConflist('{', 'cni-conf.json')).toThrow(/^cni-conf.json is not JSON/);
  });
});
