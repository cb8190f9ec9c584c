/**
 * podman 4 as a real CNI runtime (../shared/notes/podman.md): run inside a simulated host's namespace with
 * nsenter (not `ip netns exec`, which remounts /sys and breaks runc), with a private containers.conf whose
 * plugin path holds weft, a private conflist directory and private storage, and containers started from a
 * busybox root filesystem (no registry is reachable).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEFT_BIN, type CniHost } from './cni.ts';
import { defer } from './netns.ts';

const APPLETS = ['sh', 'ip', 'ping', 'sleep', 'cat', 'nc', 'hostname', 'wget', 'nslookup'];

/** Where podman runs: a plugin-test host, or a simulated cluster host whose daemon writes the conflists. */
export interface PodmanHost {
  readonly ns: { readonly path: string };
  readonly dir: string;
  readonly conf?: CniHost['conf'];
}

export class Podman {
  readonly host: PodmanHost;
  readonly dir: string;
  readonly netConfDir: string;

  constructor(host: PodmanHost, opts: { netConfDir?: string } = {}) {
    this.host = host;
    this.dir = join(host.dir, 'podman');
    this.netConfDir = opts.netConfDir ?? join(this.dir, 'net.d');
    for (const d of ['bin', 'net.d', 'rootfs/bin', 'rootfs/etc', 'rootfs/proc', 'rootfs/sys', 'rootfs/dev', 'rootfs/tmp']) mkdirSync(join(this.dir, d), { recursive: true });
    symlinkSync(WEFT_BIN, join(this.dir, 'bin/weft'));
    copyFileSync('/bin/busybox', join(this.dir, 'rootfs/bin/busybox'));
    for (const a of APPLETS) symlinkSync('busybox', join(this.dir, 'rootfs/bin', a));
    writeFileSync(join(this.dir, 'containers.conf'), [
      '[network]', 'network_backend = "cni"', `cni_plugin_dirs = ["${join(this.dir, 'bin')}", "/usr/lib/cni"]`,
      '[containers]', 'default_ulimits = []',
      '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', 'runtime = "runc"', '',
    ].join('\n'));
    defer(() => {
      this.podman(['rm', '--all', '--force', '--time', '0']);
    });
  }

  /** Writes a conflist whose first plugin is weft (pointing at this host's lease and state). */
  network(name: string, cniVersion: string, extra: object = {}): void {
    const { cniVersion: _v, name: _n, ...weft } = this.host.conf!(extra, cniVersion);
    writeFileSync(join(this.netConfDir, `${name}.conflist`), JSON.stringify({ cniVersion, name, plugins: [weft] }));
  }

  podman(args: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
    const r = spawnSync('nsenter', [
      `--net=${this.host.ns.path}`, 'podman', '--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'),
      '--network-config-dir', this.netConfDir, ...args,
    ], { encoding: 'utf8', env: { ...process.env, CONTAINERS_CONF: join(this.dir, 'containers.conf') }, timeout: 60_000 });
    return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** `podman run` with the options this sandbox needs; options go before the root filesystem. */
  run(opts: readonly string[], command: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
    return this.podman(['run', '--ulimit', 'host', ...opts, '--rootfs', join(this.dir, 'rootfs'), ...command]);
  }

  /** The pid of a running container (its namespace is /proc/<pid>/ns/net). */
  pid(container: string): number {
    const r = this.podman(['inspect', '--format', '{{.State.Pid}}', container]);
    if (!r.ok) throw new Error(`podman inspect ${container}: ${r.stderr}`);
    return Number(r.stdout.trim());
  }
}
