import { describe, expect, it } from 'vitest';
import { isWeftLink, planUninstall } from './uninstall.ts';

const opts = {
  cniBinDir: '/opt/cni/bin',
  cniConfDir: '/etc/cni/net.d',
  systemdDir: '/etc/systemd/system',
  envFile: '/etc/weft/weft.env',
  subnetFile: '/run/flannel/subnet.env',
  stateDir: '/var/lib/weft',
  runDir: '/run/weft',
  cniDataDir: '/var/lib/cni/weft',
  cacheDir: '/var/cache/weft',
  purge: false,
};

describe('planUninstall()', () => {
  it("plans only what exists and is weft's; the settings file only when purging", () => {
    const present = new Set(['/opt/cni/bin/weft', '/etc/weft/weft.env', '/var/lib/weft', '/etc/cni/net.d/weft-RED.conflist']);
    const host = {
      exists: (p: string) => present.has(p),
      list: (d: string) => (d === '/etc/cni/net.d' ? ['weft-RED.conflist', '10-flannel.conflist'] : []),
      nftTables: [
        { family: 'inet', name: 'weft_isolation' },
        { family: 'ip', name: 'flannel-ipv4' },
      ],
      links: [
        { name: 'flannel.1', kind: 'vxlan' },
        { name: 'eth0', kind: undefined },
        { name: 'docker0', kind: 'bridge' },
      ],
    };
    const paths = (purge: boolean) =>
      planUninstall({ ...opts, purge }, host).map((r) =>
        'path' in r ? r.path : `${r.kind}:${'family' in r ? `${r.family} ` : ''}${r.name}`,
      );
    expect(paths(false)).toEqual([
      '/opt/cni/bin/weft',
      '/etc/cni/net.d/weft-RED.conflist',
      '/var/lib/weft',
      'nft:inet weft_isolation',
      'link:flannel.1',
    ]);
    expect(paths(true)).toContain('/etc/weft/weft.env');
  });

  it("knows weft's links by kind and name", () => {
    expect(isWeftLink({ name: 'weft.256', kind: 'vxlan' })).toBe(true);
    expect(isWeftLink({ name: 'weft.256', kind: 'bridge' })).toBe(false);
    expect(isWeftLink({ name: 'w-RED', kind: 'bridge' })).toBe(true);
    expect(isWeftLink({ name: 'vxlan0', kind: 'vxlan' })).toBe(false);
  });
});
