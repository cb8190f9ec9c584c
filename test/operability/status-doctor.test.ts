/**
 * `weft status` and `weft doctor` as an operator runs them on a simulated host (issue 13). Doctor's checks
 * are shown failing by injecting each fault while the daemon is frozen (a running daemon repairs most of them
 * within a moment, which is the point of it, but then doctor has nothing to show), and passing again once it
 * runs and the faults it does not own are undone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../pkg/contract/status.ts';
import type { Check } from '../../pkg/doctor/mod.ts';
import { chaosCluster, type Chaos } from '../chaos/harness.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer } from '../helpers/netns.ts';
import { bridgeJson, ipJson, run } from '../helpers/sh.ts';
import { weftOn } from '../helpers/weft-cli.ts';

function doctor(x: Chaos, n: number, extra: string[] = []): { code: number | null; checks: Check[]; text: string } {
  const bin = join(x.c.opts.dir, 'cni-bin');
  const json = weftOn(x.c, n, ['doctor', '--json', '--cni-bin-dir', bin, ...extra]);
  const text = weftOn(x.c, n, ['doctor', '--cni-bin-dir', bin, ...extra]).stdout;
  return { code: json.code, checks: JSON.parse(json.stdout) as Check[], text };
}

const failing = (checks: readonly Check[]) =>
  checks
    .filter((c) => c.status !== 'ok')
    .map((c) => `${c.status} ${c.check}${c.network ? ` ${c.network}` : ''}`)
    .sort();

describe('weft status', () => {
  it('shows the daemon, etcd and every network, --json is the status document, -v lists peers; no daemon is one line', async () => {
    const x = await chaosCluster('os');
    const text = weftOn(x.c, 1, ['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^weft \S+ on h1, up \d+s\netcd +http:\/\/192\.0\.2\.250:2379 \(in use, [\d.]+ ms\)/);
    expect(text.stdout).toMatch(
      /^default +1 +10\.244\.\d+\.0\/24 +in 23h \d+m +flannel\.1 +1450 +1 +yes +\d+s ago, [\d.]+ ms, 0 repaired/m,
    );
    expect(text.stdout).toMatch(/^RED +256 +10\.10\.10\.\d+\/27 +in 23h \d+m +weft\.256 +1450 +1 +yes/m);
    const doc = JSON.parse(weftOn(x.c, 1, ['status', '--json', '-v']).stdout) as DaemonStatus;
    expect(doc).toMatchObject({ node: 'h1', store: { kind: 'etcd', endpoints: [{ endpoint: 'http://192.0.2.250:2379', current: true }] } });
    const red = doc.networks.find((n) => n.name === 'RED')!;
    expect(red).toMatchObject({
      vni: 256,
      device: 'weft.256',
      mtu: 1450,
      ready: true,
      peers: { count: 1, list: [{ publicIP: '192.0.2.2' }] },
    });
    expect(red.desired?.overlay.fdb).toEqual([{ mac: red.peers.list![0]!.vtepMac, dst: '192.0.2.2' }]);
    expect(weftOn(x.c, 1, ['status', '-v']).stdout).toMatch(
      /peers of RED\nsubnet +public IP +VTEP MAC\n10\.10\.10\.\d+\/27 +192\.0\.2\.2 /,
    );
    const none = weftOn(x.c, 1, ['status', '--socket', '/nonexistent/weft.sock']);
    expect(none).toMatchObject({
      code: 1,
      stderr:
        'weft: the weft daemon on this host is not running (no socket at /nonexistent/weft.sock); ' +
        'start it (systemctl start weft, or weft daemon)\n',
    });
  });
});

describe('weft doctor', () => {
  it('passes on a healthy host; each injected fault fails its check, named, with the fix; clean again after', async () => {
    const x = await chaosCluster('od');
    const c = x.c;
    const h1 = c.hosts[0]!.name;
    const bin = join(c.opts.dir, 'cni-bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(c.opts.bin, join(bin, 'weft'));
    run('ip', ['netns', 'exec', h1, 'ethtool', '-K', 'flannel.1', 'tx-checksum-ip-generic', 'off']);
    run('ip', ['netns', 'exec', h1, 'ethtool', '-K', 'weft.256', 'tx-checksum-ip-generic', 'off']);
    const healthy = doctor(x, 1, ['--probe']);
    expect(failing(healthy.checks), healthy.text).toEqual([]);
    expect(healthy.code).toBe(0);
    expect(healthy.checks.filter((k) => k.check === 'probe').map((k) => k.detail)).toEqual([
      expect.stringMatching(/\(peer 192\.0\.2\.2\): 0% loss, [\d.]+ ms$/),
      expect.stringMatching(/0% loss/),
    ]);

    // Faults, with the daemon frozen so that it repairs nothing meanwhile.
    const d = c.daemon(1);
    await eventually('status.json written', () => readFileSync(join(d.dir, 'run', 'status.json'), 'utf8').includes('"RED"'));
    d.freeze();
    defer(() => d.thaw());
    const sh = (...args: string[]) => run('ip', ['netns', 'exec', h1, ...args]);
    const redPeerMac = bridgeJson<Array<{ mac: string; dst?: string }>>(h1, ['fdb', 'show', 'dev', 'weft.256']).find(
      (f) => f.dst === '192.0.2.2',
    )!.mac;
    sh('bridge', 'fdb', 'del', redPeerMac, 'dev', 'weft.256', 'dst', '192.0.2.2', 'self');
    sh('ip', 'link', 'set', 'flannel.1', 'mtu', '1400');
    const brAddr = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(h1, ['addr', 'show', 'w-RED'])[0]!
      .addr_info[0]!;
    sh('ip', 'addr', 'del', `${brAddr.local}/${brAddr.prefixlen}`, 'dev', 'w-RED');
    sh('nft', 'flush', 'ruleset');
    const redEnv = join(d.dir, 'run', 'networks', 'RED.env');
    writeFileSync(redEnv, readFileSync(redEnv, 'utf8').replace(/FLANNEL_SUBNET=\S+/, 'FLANNEL_SUBNET=10.10.10.250/27'));
    writeFileSync(
      join(d.cniConfDir, '10-shadow.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'RED', plugins: [{ type: 'bridge' }] }),
    );
    sh('sysctl', '-qw', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.rp_filter=1');
    sh('ip', 'link', 'set', 'eth0', 'mtu', '1450');
    sh('ethtool', '-K', 'weft.256', 'tx-checksum-ip-generic', 'on');
    rmSync(join(bin, 'weft'));
    writeFileSync(join(bin, 'weft'), '#!/bin/sh\necho 0.0.1\n');
    chmodSync(join(bin, 'weft'), 0o755);

    const sick = doctor(x, 1);
    expect(sick.code).toBe(1);
    expect(failing(sick.checks), sick.text).toEqual(
      [
        'fail bridge RED',
        'fail conflist RED',
        'fail firewall',
        'fail ip-forward',
        'fail mtu RED',
        'fail mtu default',
        'fail peers RED',
        'fail subnet-file RED',
        'fail vxlan-device default',
        'warn checksum-offload RED',
        'warn cni-config',
        'warn cni-plugin',
        'warn daemon',
        'warn rp-filter RED',
        'warn rp-filter default',
      ].sort(),
    );
    const say = (check: string, net?: string) => sick.checks.find((k) => k.check === check && k.network === net)!;
    expect(say('peers', 'RED').detail).toMatch(
      new RegExp(`^weft\\.\\d+: missing or wrong: fdb ${redPeerMac} dst 192\\.0\\.2\\.2 \\(peer 192\\.0\\.2\\.2\\)$`),
    );
    expect(say('vxlan-device', 'default').detail).toBe('flannel.1: mtu 1400 (want 1450)');
    expect(say('bridge', 'RED').detail).toBe(`w-RED: address ${brAddr.local}/${brAddr.prefixlen} missing`);
    expect(say('subnet-file', 'RED').detail).toMatch(
      /differs from the lease \(FLANNEL_SUBNET=10\.10\.10\.250\/27, the lease says 10\.10\.10\.\d+\/27\)$/,
    );
    expect(say('conflist', 'RED')).toMatchObject({
      detail: expect.stringContaining('10-shadow.conflist also defines network RED'),
      fix: 'remove or rename 10-shadow.conflist',
    });
    expect(say('firewall').detail).toMatch(/table (inet weft_isolation|ip weft_default|ip weft_RED) is missing/);
    expect(say('mtu', 'RED').detail).toBe(
      'underlay eth0 has MTU 1450, but weft.256 needs 1500 (its 1450 + 50 for VXLAN): large packets are dropped',
    );
    expect(say('daemon').detail).toMatch(/did not answer within 3 s.*comparing with the state it last wrote/);
    expect(say('cni-plugin').detail).toMatch(/^the CNI plugin is 0\.0\.1, the daemon /);
    expect(sick.text).toMatch(/^FAIL +bridge +RED +w-RED: address .* missing\n +fix: the daemon repairs this/m);

    // Running again, the daemon repairs what it owns; the rest is the operator's, and doctor keeps saying so.
    d.thaw();
    // flannel.1's MTU cannot be set back while eth0's is too small for it: that is the operator's too.
    const theirs = [
      'fail conflist RED',
      'fail mtu RED',
      'fail mtu default',
      'fail vxlan-device default',
      'warn checksum-offload RED',
      'warn cni-config',
      'warn cni-plugin',
      'warn rp-filter RED',
      'warn rp-filter default',
    ];
    await eventually('the daemon repairs what it owns', () => failing(doctor(x, 1).checks).join() === theirs.sort().join(), 30_000);
    rmSync(join(d.cniConfDir, '10-shadow.conflist'));
    sh('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0');
    sh('ip', 'link', 'set', 'eth0', 'mtu', '1500');
    sh('ethtool', '-K', 'weft.256', 'tx-checksum-ip-generic', 'off');
    rmSync(join(bin, 'weft'));
    symlinkSync(c.opts.bin, join(bin, 'weft'));
    await eventually('clean once the daemon set flannel.1 back', () => failing(doctor(x, 1).checks).length === 0, 30_000);

    // A program takes the VXLAN port while the devices are gone: they cannot come back until it lets go.
    d.freeze();
    sh('ip', 'link', 'del', 'weft.256');
    sh('ip', 'link', 'del', 'flannel.1');
    const squatter = spawn(
      'ip',
      ['netns', 'exec', h1, process.execPath, '-e', "require('dgram').createSocket('udp4').bind(8472, '127.0.0.1')"],
      { stdio: 'ignore' },
    );
    defer(() => squatter.kill());
    await eventually('the squatter on 8472', () =>
      spawnSync('ip', ['netns', 'exec', h1, 'cat', '/proc/net/udp'], { encoding: 'utf8' }).stdout.includes(':2118 '),
    );
    const taken = doctor(x, 1);
    expect(failing(taken.checks)).toContain('fail vxlan-port');
    expect(taken.checks.find((k) => k.check === 'vxlan-port')!.detail).toMatch(
      /^UDP port 8472 is also bound by a program \(socket inode \d+\)/,
    );
    squatter.kill();
    d.thaw();
    await eventually('the devices back', () => ipJson<unknown[]>(h1, ['link', 'show', 'type', 'vxlan']).length === 2, 30_000);
    sh('ethtool', '-K', 'flannel.1', 'tx-checksum-ip-generic', 'off');
    sh('ethtool', '-K', 'weft.256', 'tx-checksum-ip-generic', 'off');
    await eventually('doctor clean again', () => doctor(x, 1).code === 0, 30_000);

    // etcd gone: the daemon's next request fails (it checks the endpoint it watches every 10 s).
    c.etcd.kill();
    await eventually(
      'doctor says etcd is unreachable',
      () => {
        const k = doctor(x, 1).checks.find((v) => v.check === 'etcd')!;
        return k.status === 'fail' && /^etcd at http:\/\/192\.0\.2\.250:2379 is unreachable/.test(k.detail);
      },
      30_000,
    );
    await c.etcd.restart();
  });
});
