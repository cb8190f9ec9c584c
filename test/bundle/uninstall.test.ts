/**
 * `weft uninstall` through the executable, inside a namespace of its own with every path under a temporary
 * directory: it lists (--dry-run) and then removes what weft put on a host, leaves what is not weft's, and
 * refuses while a daemon answers on the socket.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../helpers/cni.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';
import { run } from '../helpers/sh.ts';

describe('weft uninstall', () => {
  it("removes weft's files, tables and links, nothing else, and not under a running daemon", async () => {
    const ns = makeNetns('uninst');
    const d = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}uninstall-`));
    defer(() => rmSync(d, { recursive: true, force: true }));
    const p = (x: string) => join(d, x);
    for (const dir of ['bin', 'net.d', 'systemd/weft.service.d', 'etc', 'flannel', 'state', 'run', 'cni-data/RED', 'cache/sea-1', 'docker'])
      mkdirSync(p(dir), { recursive: true });
    for (const f of ['bin/weft', 'bin/bridge', 'net.d/10-weft.conflist', 'net.d/weft-RED.conflist', 'net.d/05-other.conflist'])
      writeFileSync(p(f), 'x');
    for (const f of ['systemd/weft.service', 'etc/weft.env', 'flannel/subnet.env', 'state/vtep-mac', 'cni-data/RED/10.0.0.2'])
      writeFileSync(p(f), 'x');
    // What weft install --docker wrote, and the daemon's resolver address for Docker containers.
    writeFileSync(p('systemd/weft.service.d/docker.conf'), 'x');
    writeFileSync(p('docker/daemon.json'), '{"debug": true, "dns": ["169.254.53.53", "192.0.2.53"]}');
    run('ip', ['-n', ns.name, 'addr', 'add', '169.254.53.53/32', 'dev', 'lo']);
    run('nsenter', [`--net=${ns.path}`, 'nft', '-f', '-'], {
      input: 'table inet weft_isolation {}\ntable ip weft__default {}\ntable inet weft-cni {}\ntable inet other {}\n',
    });
    run('ip', ['-n', ns.name, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'dstport', '8472']);
    for (const br of ['cni0', 'w-RED', 'br-keep']) run('ip', ['-n', ns.name, 'link', 'add', br, 'type', 'bridge']);
    const args = [
      ...['--cni-bin-dir', p('bin'), '--cni-conf-dir', p('net.d'), '--systemd-dir', p('systemd')],
      ...['--systemd-env-file', p('etc/weft.env'), '--subnet-file', p('flannel/subnet.env'), '--state-dir', p('state')],
      ...['--run-dir', p('run'), '--cni-data-dir', p('cni-data'), '--cache-dir', p('cache')],
      ...['--docker-config', p('docker/daemon.json'), '--docker-plugin-socket', p('docker/weft.sock')],
    ];
    const weft = (...more: string[]) =>
      spawnSync('nsenter', [`--net=${ns.path}`, WEFT_BIN, 'uninstall', ...args, ...more], { encoding: 'utf8' });
    const tables = () => spawnSync('nsenter', [`--net=${ns.path}`, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout;
    const links = () => run('ip', ['-n', ns.name, '-br', 'link']);

    const dry = weft('--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    const listed = dry.stdout.trim().split('\n');
    expect(listed.every((l) => l.startsWith('would remove '))).toBe(true);
    expect(listed).toHaveLength(18);
    expect(dry.stdout).toContain('nft table inet weft_isolation');
    expect(dry.stdout).toContain('link w-RED');
    expect(dry.stdout).not.toMatch(/other|br-keep|bin\/bridge|weft\.env/);
    expect(existsSync(p('bin/weft'))).toBe(true);

    // A daemon answering on the socket: refused, nothing removed.
    const server = createServer((_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((ok) => server.listen(p('run/weft.sock'), ok));
    try {
      const refused = await new Promise<{ status: number | null; stderr: string }>((res) => {
        const c = spawn('nsenter', [`--net=${ns.path}`, WEFT_BIN, 'uninstall', ...args]);
        let stderr = '';
        c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        c.on('close', (status: number | null) => res({ status, stderr }));
      });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/^weft: the weft daemon is running .*stop it first \(systemctl disable --now weft\)\n$/);
    } finally {
      server.close();
    }
    expect(existsSync(p('bin/weft'))).toBe(true);

    const done = weft();
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout.trim().split('\n')).toHaveLength(18);
    expect(JSON.parse(readFileSync(p('docker/daemon.json'), 'utf8'))).toEqual({ debug: true, dns: ['192.0.2.53'] });
    expect(run('ip', ['-n', ns.name, '-br', 'addr', 'show', 'dev', 'lo'])).not.toContain('169.254.53.53');
    expect(readdirSync(p('bin'))).toEqual(['bridge']);
    expect(readdirSync(p('net.d'))).toEqual(['05-other.conflist']);
    expect(existsSync(p('etc/weft.env'))).toBe(true);
    for (const gone of [
      'state',
      'run',
      'cni-data',
      'cache',
      'systemd/weft.service',
      'systemd/weft.service.d/docker.conf',
      'flannel/subnet.env',
    ])
      expect(existsSync(p(gone))).toBe(false);
    expect(tables()).toBe('table inet other\n');
    expect(links()).toMatch(/br-keep/);
    expect(links()).not.toMatch(/flannel\.1|cni0|w-RED/);
    expect(weft('--purge').stdout).toBe(`removed ${p('etc/weft.env')}  (the daemon's settings)\n`);
    expect(weft().stdout).toBe('nothing of weft is installed here\n');
  });
});
