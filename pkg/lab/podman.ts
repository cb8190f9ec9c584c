/**
 * podman 4 as a CNI runtime inside a simulated host (what podman 4.3 needs, measured here): run with nsenter into the
 * host's namespace (not `ip netns exec`, which remounts /sys and breaks runc), with a private
 * containers.conf, storage and conflist directory under `dir`, and containers started from a busybox root
 * filesystem (no registry is needed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from './rootfs.ts';

export interface PodmanOptions {
  /** The simulated host's namespace: CNI plugins run there. */
  readonly nsPath: string;
  /** Where podman reads conflists (the host daemon's --cni-conf-dir). */
  readonly netConfDir: string;
  /** Directories searched for CNI plugins, in order. */
  readonly pluginDirs: readonly string[];
}

export interface PodmanRun {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export function podmanAvailable(): boolean {
  return spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0 && existsSync('/bin/busybox');
}

export class Podman {
  readonly dir: string;
  readonly o: PodmanOptions;

  constructor(dir: string, o: PodmanOptions) {
    this.dir = dir;
    this.o = o;
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    busyboxRootfs(join(dir, 'rootfs'));
    writeFileSync(
      join(dir, 'containers.conf'),
      [
        '[network]',
        'network_backend = "cni"',
        `cni_plugin_dirs = [${o.pluginDirs.map((p) => JSON.stringify(p)).join(', ')}]`,
        '[containers]',
        'default_ulimits = []',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        'runtime = "runc"',
        `tmp_dir = "${join(dir, 'tmp')}"`,
        '',
      ].join('\n'),
    );
  }

  podman(args: readonly string[]): PodmanRun {
    const r = spawnSync(
      'nsenter',
      [
        `--net=${this.o.nsPath}`,
        'podman',
        '--root',
        join(this.dir, 'storage'),
        '--runroot',
        join(this.dir, 'run'),
        '--network-config-dir',
        this.o.netConfDir,
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, CONTAINERS_CONF: join(this.dir, 'containers.conf') }, timeout: 60_000 },
    );
    return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** `podman run` with the options this setting needs; options go before the root filesystem. */
  run(opts: readonly string[], command: readonly string[]): PodmanRun {
    return this.podman(['run', '--ulimit', 'host', ...opts, '--rootfs', join(this.dir, 'rootfs'), ...command]);
  }

  /** The pid of a running container (its namespace is /proc/<pid>/ns/net). */
  pid(container: string): number {
    const r = this.podman(['inspect', '--format', '{{.State.Pid}}', container]);
    if (!r.ok) throw new Error(`podman inspect ${container}: ${r.stderr.trim()}`);
    return Number(r.stdout.trim());
  }

  removeAll(): PodmanRun {
    return this.podman(['rm', '--all', '--force', '--time', '0']);
  }
}
