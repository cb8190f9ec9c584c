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
  dockerConfig: '/etc/docker/daemon.json',
  dockerPluginSocket: '/run/docker/plugins/weft.sock',
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
      read: () => undefined,
      loopbackAddrs: ['127.0.0.1/8'],
    };
    const paths = (purge: boolean) =>
      planUninstall({ ...opts, purge }, host).map((r) =>
        'path' in r ? r.path : 'cidr' in r ? r.cidr : `${r.kind}:${'family' in r ? `${r.family} ` : ''}${r.name}`,
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

  it("takes back weft install --docker: the drop-in, weft's resolver in dockerd's dns, its address on lo", () => {
    const config = '{"log-driver": "journald", "dns": ["169.254.53.53", "192.0.2.53"]}';
    const host = {
      exists: (p: string) => p === '/etc/systemd/system/weft.service.d/docker.conf',
      list: () => [],
      nftTables: [],
      links: [],
      read: (p: string) => (p === '/etc/docker/daemon.json' ? config : undefined),
      loopbackAddrs: ['127.0.0.1/8', '169.254.53.53/32'],
    };
    const plan = planUninstall(opts, host);
    expect(plan.map((r) => r.kind)).toEqual(['file', 'rewrite', 'addr']);
    expect(JSON.parse((plan[1] as { text: string }).text)).toEqual({ 'log-driver': 'journald', dns: ['192.0.2.53'] });
    expect(planUninstall(opts, { ...host, exists: () => false, read: () => '{"dns": ["192.0.2.53"]}', loopbackAddrs: [] })).toEqual([]);
  });

  it("knows weft's links by kind and name", () => {
    expect(isWeftLink({ name: 'weft.256', kind: 'vxlan' })).toBe(true);
    expect(isWeftLink({ name: 'weft.256', kind: 'bridge' })).toBe(false);
    expect(isWeftLink({ name: 'w-RED', kind: 'bridge' })).toBe(true);
    expect(isWeftLink({ name: 'vxlan0', kind: 'vxlan' })).toBe(false);
  });
});
