/**
 * A real dockerd per simulated host (Debian's docker.io 20.10), as measured here: started in a private mount
 * namespace (`unshare --mount`) with a directory of its own bind-mounted on /run/docker (so its plugin
 * directory, where weft's daemon of that host puts weft.sock, is its own), inside the host's network namespace
 * (`nsenter --net`), with its own data root, exec root, API socket, containerd namespaces and an empty
 * config file; no bridge and no iptables, so it touches nothing outside what it is given. Images come from
 * `docker import` of a busybox root filesystem (no registry is reachable).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from './rootfs.ts';

export const DOCKER_IMAGE = 'weft-busybox:1';
const DOCKER = '/usr/bin/docker';

/** `docker ARGS` against the dockerd listening on `host` (unix://PATH). */
export function dockerAt(host: string, args: readonly string[]): DockerRun {
  const r = spawnSync(DOCKER, ['-H', host, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function dockerAvailable(): boolean {
  return existsSync('/usr/sbin/dockerd') && existsSync(DOCKER) && existsSync('/bin/busybox');
}

export interface DockerRun {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export class SimDocker {
  readonly dir: string;
  readonly nsPath: string;
  /** `unix://...`: what weft's daemon of the host gets as --docker-host. */
  readonly host: string;
  /** Where weft's daemon of the host puts its plugin socket (Docker sees it as /run/docker/plugins/weft.sock). */
  readonly pluginSocket: string;
  /** dockerd's --dns: where Docker's embedded DNS forwards what it does not know (weft's resolver). */
  readonly dns: string;
  readonly #tag: string;
  readonly #detach: boolean;
  #proc: ChildProcess | undefined;

  /** `tag`: unique per dockerd of this run (its containerd namespaces); `detach`: outlives this process (the lab). */
  constructor(dir: string, nsPath: string, tag: string, dns: string, opts: { detach?: boolean } = {}) {
    this.dir = dir;
    this.nsPath = nsPath;
    this.#tag = tag;
    this.dns = dns;
    this.#detach = opts.detach ?? false;
    this.host = `unix://${join(dir, 'docker.sock')}`;
    this.pluginSocket = join(dir, 'run/plugins/weft.sock');
    for (const d of ['run/plugins', 'data', 'exec']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
  }

  start(): void {
    mkdirSync('/run/docker', { recursive: true });
    const args = [
      `--data-root=${join(this.dir, 'data')}`,
      `--exec-root=${join(this.dir, 'exec')}`,
      `--host=${this.host}`,
      `--pidfile=${join(this.dir, 'docker.pid')}`,
      `--config-file=${join(this.dir, 'daemon.json')}`,
      `--containerd-namespace=weft-${this.#tag}`,
      `--containerd-plugins-namespace=weft-${this.#tag}-p`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--storage-driver=vfs',
      `--dns=${this.dns}`,
    ];
    const script = `mount --bind "$1" /run/docker && shift && exec nsenter --net="$NS" dockerd "$@"`;
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    this.#proc = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', join(this.dir, 'run'), ...args], {
      stdio: ['ignore', log, log],
      env: { ...process.env, NS: this.nsPath },
      detached: this.#detach,
    });
    if (this.#detach) this.#proc.unref();
  }

  /** Waits until dockerd answers, then imports the busybox image (once per data root). */
  async ready(ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.run(['version']).ok) {
      if (this.#proc?.exitCode !== null && this.#proc?.exitCode !== undefined)
        throw new Error(`dockerd exited with ${this.#proc.exitCode}`);
      if (Date.now() > until) throw new Error(`dockerd did not answer on ${this.host} within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (this.run(['image', 'inspect', DOCKER_IMAGE]).ok) return;
    const tar = join(this.dir, 'rootfs.tar');
    const root = join(this.dir, 'rootfs');
    busyboxRootfs(root);
    const t = spawnSync('tar', ['-C', root, '-cf', tar, '.']);
    if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = this.run(['import', tar, DOCKER_IMAGE]);
    if (!r.ok) throw new Error(`docker import: ${r.stderr}`);
  }

  /** dockerd's process: its mount namespace holds the containers' namespace files (SandboxKey). */
  get pid(): number | undefined {
    return this.#proc?.exitCode === null ? this.#proc.pid : undefined;
  }

  /** The last lines dockerd logged. */
  log(lines = 30): string {
    return existsSync(join(this.dir, 'dockerd.log'))
      ? readFileSync(join(this.dir, 'dockerd.log'), 'utf8').split('\n').slice(-lines).join('\n')
      : '';
  }

  /** A container's network namespace, through its first process (the SandboxKey lives in dockerd's mount namespace). */
  netnsOf(container: string): string {
    const pid = this.run(['inspect', '-f', '{{.State.Pid}}', container]).stdout.trim();
    if (!/^[1-9]\d*$/.test(pid)) throw new Error(`docker inspect ${container}: no running process`);
    return `/proc/${pid}/ns/net`;
  }

  /** `docker ARGS` against this host's dockerd. */
  run(args: readonly string[]): DockerRun {
    return dockerAt(this.host, args);
  }

  /** Stops dockerd as a service stop does (it stops its containers), keeping its data for a later start(). */
  stop(): void {
    const p = this.#proc;
    if (p?.pid !== undefined && p.exitCode === null) {
      // Node cannot reap it while this waits synchronously: exited means gone or a zombie.
      const gone = 's=$(cut -d" " -f3 /proc/$1/stat 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ]';
      const wait = `kill -TERM $1; for i in $(seq 300); do ${gone} && exit 0; sleep 0.1; done; kill -KILL $1`;
      spawnSync('sh', ['-c', wait, 'sh', String(p.pid)], { timeout: 40_000 });
    }
    this.#proc = undefined;
  }

  /**
   * Removes every container, stops dockerd (it stops its containerd) and deletes its directory. Synchronous,
   * so it can run among a test's cleanups.
   */
  destroy(): void {
    if (this.pid !== undefined) {
      const ids = this.run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) this.run(['rm', '-f', ...ids]);
    }
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
