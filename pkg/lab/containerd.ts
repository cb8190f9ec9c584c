/**
 * containerd with its CRI plugin per simulated host (Debian's containerd 1.6.20), the runtime kubelet talks
 * to, run the way a node runs it but with everything it keeps under one directory: its root, state, socket
 * and config; the CRI plugin's CNI `conf_dir` and `bin_dir` (what `weft install` fills on a real node); runc's
 * state (`Root`); the pods' network namespaces (`netns_mounts_under_state_dir`) and their cgroups under a
 * parent of its own. It runs in the host's network namespace (`nsenter --net`), so the CNI plugins it calls
 * and the pods' host-side veths are that host's, and in the machine's mount namespace, as on a node, so a
 * restarted containerd finds its running pods' mounts again.
 *
 * Settings this machine needs, as measured: `restrict_oom_score_adj` (the sandbox's oom_score_adj of -998
 * needs CAP_SYS_RESOURCE, which this machine's root lacks: runc fails with "can't get final child's PID from
 * pipe"); `disable_apparmor`; the overlayfs snapshotter (overlay mounts work on this ext4; native would copy
 * the image per pod). The sandbox ("pause") image is built here from the machine's static busybox, an OCI
 * archive written by hand and imported with `ctr images import`: nothing is pulled (no registry is reachable).
 * One thing stays outside the directory: the shims' sockets in /run/containerd/s/ (a path fixed in
 * containerd 1.6), removed by each shim when it exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient, type PodSandboxStatus } from '../cri/mod.ts';
import { waitFor } from '../sim/mod.ts';
import { labProcesses } from './down.ts';
import { busyboxRootfs } from './rootfs.ts';

/** The sandbox image's name: never pulled, imported from the archive sandboxImageArchive() writes. */
export const SANDBOX_IMAGE = 'weft.local/pause:1';
/** The containerd namespace the CRI plugin keeps its images and pods in. */
const K8S_NAMESPACE = 'k8s.io';

export function containerdAvailable(): boolean {
  return (
    ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/bin/containerd-shim-runc-v2', '/bin/busybox'].every((f) => existsSync(f)) &&
    spawnSync('runc', ['--version']).status === 0
  );
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Writes the sandbox image as an OCI image layout archive (oci-layout, index.json, blobs) in `dir` and returns
 * its path: one uncompressed layer with busybox, whose `sleep infinity` is the pod's first process (the pause
 * container's only job is to hold the pod's namespaces; containerd stops it with SIGKILL).
 */
export function sandboxImageArchive(dir: string): string {
  const out = join(dir, 'pause.oci.tar');
  if (existsSync(out)) return out;
  const layout = join(dir, 'pause-oci');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const root = join(dir, 'pause-rootfs');
  busyboxRootfs(root);
  const layerTar = join(layout, 'layer.tar');
  // Reproducible: sorted names, numeric owners, one mtime, so the same busybox gives the same image ID.
  const t = spawnSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', layerTar, '.']);
  if (t.status !== 0) throw new Error(`tar of the sandbox image's layer: ${t.stderr}`);
  const blob = (b: Uint8Array, mediaType: string) => {
    const digest = sha256(b);
    writeFileSync(join(blobs, digest), b);
    return { mediaType, digest: `sha256:${digest}`, size: b.length };
  };
  const layer = blob(readFileSync(layerTar), 'application/vnd.oci.image.layer.v1.tar');
  rmSync(layerTar);
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/bin/sleep', 'infinity'], Env: ['PATH=/bin'], WorkingDir: '/' },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = blob(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })),
    'application/vnd.oci.image.manifest.v1+json',
  );
  // `ctr images import` names the image after io.containerd.image.name.
  const ref = { 'io.containerd.image.name': SANDBOX_IMAGE, 'org.opencontainers.image.ref.name': SANDBOX_IMAGE.split(':')[1]! };
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: ref }] }));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const a = spawnSync('tar', ['-C', layout, '-cf', out, 'oci-layout', 'index.json', 'blobs']);
  if (a.status !== 0) throw new Error(`tar of the sandbox image: ${a.stderr}`);
  rmSync(layout, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  return out;
}

export interface ContainerdOptions {
  /** The simulated host's network namespace. */
  readonly nsPath: string;
  /** The CRI plugin's CNI config directory (it takes the first file, as on a node: `max_conf_num` 1). */
  readonly cniConfDir: string;
  /** Where the CRI plugin finds CNI plugins (one directory: weft, loopback, portmap, ...). */
  readonly cniBinDir: string;
  /** More runtime handlers (RunPodSandbox's runtime_handler), each with a CNI config directory of its own. */
  readonly handlers?: Readonly<Record<string, string>>;
  /** The cgroup the pods' cgroups go under (kubelet's pod cgroups; a sandbox without one lands in /k8s.io). */
  readonly cgroupParent: string;
  /** containerd outlives this process (the lab). */
  readonly detach?: boolean;
}

const toml = (s: string) => JSON.stringify(s);

export class SimContainerd {
  readonly dir: string;
  readonly o: ContainerdOptions;
  readonly socket: string;
  readonly cri: CriClient;
  #proc: ChildProcess | undefined;

  constructor(dir: string, o: ContainerdOptions) {
    this.dir = dir;
    this.o = o;
    this.socket = join(dir, 'containerd.sock');
    mkdirSync(dir, { recursive: true });
    mkdirSync(o.cniConfDir, { recursive: true });
    for (const d of Object.values(o.handlers ?? {})) mkdirSync(d, { recursive: true });
    writeFileSync(join(dir, 'config.toml'), this.#config());
    this.cri = new CriClient(this.socket);
  }

  get cgroupParent(): string {
    return this.o.cgroupParent;
  }

  #config(): string {
    const cri = 'plugins."io.containerd.grpc.v1.cri"';
    const runtime = (name: string, confDir?: string) => [
      `[${cri}.containerd.runtimes.${name}]`,
      '  runtime_type = "io.containerd.runc.v2"',
      ...(confDir ? [`  cni_conf_dir = ${toml(confDir)}`, '  cni_max_conf_num = 1'] : []),
      `[${cri}.containerd.runtimes.${name}.options]`,
      `  Root = ${toml(join(this.dir, 'runc'))}`,
    ];
    return [
      'version = 2',
      `root = ${toml(join(this.dir, 'root'))}`,
      `state = ${toml(join(this.dir, 'state'))}`,
      // Snapshotters and plugins that would only probe the machine and log why they cannot run.
      'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", ' +
        '"io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", ' +
        '"io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = ${toml(this.socket)}`,
      '[ttrpc]',
      `  address = ${toml(`${this.socket}.ttrpc`)}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${toml(join(this.dir, 'opt'))}`,
      `[${cri}]`,
      `  sandbox_image = ${toml(SANDBOX_IMAGE)}`,
      '  disable_apparmor = true',
      '  restrict_oom_score_adj = true',
      '  netns_mounts_under_state_dir = true',
      '  stream_server_address = "127.0.0.1"',
      `[${cri}.containerd]`,
      '  snapshotter = "overlayfs"',
      '  default_runtime_name = "runc"',
      ...runtime('runc'),
      ...Object.entries(this.o.handlers ?? {}).flatMap(([h, d]) => runtime(h, d)),
      `[${cri}.cni]`,
      `  bin_dir = ${toml(this.o.cniBinDir)}`,
      `  conf_dir = ${toml(this.o.cniConfDir)}`,
      '  max_conf_num = 1',
      '',
    ].join('\n');
  }

  /** "running", "exited with N", "killed by SIG", or "not started". */
  get status(): string {
    const p = this.#proc;
    if (!p) return 'not started';
    if (p.exitCode !== null) return `exited with ${p.exitCode}`;
    if (p.signalCode !== null) return `killed by ${p.signalCode}`;
    return 'running';
  }

  start(): void {
    const log = openSync(join(this.dir, 'containerd.log'), 'a');
    this.#proc = spawn('nsenter', [`--net=${this.o.nsPath}`, 'containerd', '--config', join(this.dir, 'config.toml')], {
      stdio: ['ignore', log, log],
      detached: this.o.detach ?? false,
    });
    if (this.o.detach) this.#proc.unref();
  }

  /**
   * Waits until the CRI plugin answers, imports the sandbox image (once per root), and, unless told not to,
   * until the runtime says NetworkReady (it has read a CNI config), as kubelet waits before it runs pods.
   */
  async ready(o: { ms?: number; network?: boolean } = {}): Promise<void> {
    const ms = o.ms ?? 30_000;
    try {
      await waitFor(
        `containerd in ${this.dir} to answer CRI`,
        async () => {
          if (this.#proc && this.status !== 'running') throw new Error(`containerd ${this.status}`);
          return (await this.cri.version().catch(() => undefined)) !== undefined;
        },
        ms,
        100,
      );
      const images = this.ctr(['images', 'ls', '-q']);
      if (!images.stdout.split('\n').includes(SANDBOX_IMAGE)) {
        const r = this.ctr(['images', 'import', sandboxImageArchive(this.dir)]);
        if (!r.ok) throw new Error(`ctr images import: ${r.stderr.trim()}`);
      }
      if (o.network !== false)
        await waitFor(
          `containerd in ${this.dir} to read its CNI config (NetworkReady)`,
          async () => (await this.cri.status()).some((c) => c.type === 'NetworkReady' && c.status),
          ms,
          100,
        );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.log(15)}`);
    }
  }

  /** `ctr ARGS` against this containerd, in the CRI plugin's namespace. */
  ctr(args: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
    const r = spawnSync('ctr', ['--address', this.socket, '--namespace', K8S_NAMESPACE, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Stops containerd as a service stop does (SIGTERM): pods and their shims keep running, as on a node. */
  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = undefined;
    this.cri.close();
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** The last lines containerd logged. */
  log(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'containerd.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * Removes containerd and everything it made, synchronously (it runs among a test's cleanups): kills
   * containerd, its shims and the pods' processes, unmounts what is mounted under its directory (rootfs,
   * /dev/shm, the pods' network namespaces), deletes the directory and the pods' cgroups. Without CNI DEL:
   * the host this simulates goes away with it.
   */
  destroy(): void {
    this.cri.close();
    removeContainerdState(this.dir, this.o.cgroupParent);
    this.#proc = undefined;
  }
}

/** The pod's network namespace, from a verbose PodSandboxStatus: /proc/<pid of its pause process>/ns/net. */
export function podNetns(s: PodSandboxStatus): string {
  const pid = (JSON.parse(s.info.info ?? '{}') as { pid?: number }).pid;
  if (!pid) throw new Error(`sandbox ${s.id}: the runtime reports no pid (ask with verbose)`);
  return `/proc/${pid}/ns/net`;
}

/**
 * Kills the processes of a containerd in `dir` (containerd and its shims name the directory in their command
 * line; the pods' processes, in mount namespaces of their own, are found by their cgroup), removes the shims'
 * sockets, unmounts what is mounted under `dir` and removes the cgroup parent; the files stay.
 */
export function stopContainerdState(dir: string, cgroupParent: string | undefined): void {
  const pids = [...labProcesses(dir), ...(cgroupParent ? processesInCgroup(cgroupParent) : [])];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  // Exited means gone or a zombie (this process may be its parent and reaps it later).
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 100 && pids.some(alive); i++) Atomics.wait(nap, 0, 0, 50);
  for (const id of tasksOf(dir)) rmSync(shimSocket(join(dir, 'containerd.sock'), id), { force: true });
  unmountUnder(dir);
  if (cgroupParent) removeCgroup(cgroupParent);
}

/** stopContainerdState, then the directory. */
export function removeContainerdState(dir: string, cgroupParent: string | undefined): void {
  stopContainerdState(dir, cgroupParent);
  rmSync(dir, { recursive: true, force: true });
}

/** The IDs of the tasks (pods' and containers') a containerd in `dir` has state for. */
function tasksOf(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'state', 'io.containerd.runtime.v2.task', K8S_NAMESPACE));
  } catch {
    return [];
  }
}

/**
 * Where containerd 1.6 puts a task's shim socket: /run/containerd/s/<sha256 of "<address>/<namespace>/<id>">
 * (runtime/v2/shim SocketAddress; the root is fixed, whatever the config says). A shim killed with SIGKILL
 * leaves it behind.
 */
export function shimSocket(address: string, id: string): string {
  return join('/run/containerd/s', sha256(Buffer.from(join(address, K8S_NAMESPACE, id))));
}

/** Processes in `parent` or below it, in any cgroup hierarchy. */
export function processesInCgroup(parent: string): number[] {
  const p = parent.startsWith('/') ? parent : `/${parent}`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const lines = readFileSync(`/proc/${e}/cgroup`, 'utf8').split('\n');
      if (
        lines.some((l) => {
          const path = l.split(':')[2];
          return path === p || path?.startsWith(`${p}/`);
        })
      )
        out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Unmounts every mount point under `dir` (lazily, last mounted first); returns how many. */
export function unmountUnder(dir: string): number {
  const unoctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  let n = 0;
  for (let pass = 0; pass < 3; pass++) {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => unoctal(l.split(' ')[4] ?? ''))
      .filter((m) => m.startsWith(`${dir}/`));
    if (mounts.length === 0) break;
    for (const m of mounts.reverse()) if (spawnSync('umount', ['-l', m]).status === 0) n++;
  }
  return n;
}

/** Removes `parent` (and the empty cgroups below it) from every cgroup hierarchy (v1 controllers, or v2). */
export function removeCgroup(parent: string): void {
  // Never a path that could name the machine's own cgroups: one component, weft's.
  if (!/^\/?weft[\w.-]*$/.test(parent)) throw new Error(`refusing to remove cgroup ${JSON.stringify(parent)}: not a weft cgroup`);
  const base = '/sys/fs/cgroup';
  const roots = [base, ...readdirSync(base).map((h) => join(base, h))];
  const removeTree = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      // still has tasks, or not ours to remove
    }
  };
  for (const r of roots) {
    const d = join(r, parent);
    try {
      if (statSync(d).isDirectory()) removeTree(d);
    } catch {
      // not in this hierarchy
    }
  }
}
