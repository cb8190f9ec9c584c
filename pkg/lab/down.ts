/**
 * `weft lab down`: removes everything a lab made, also when `up` crashed half-way or lab.json is gone, and is
 * safe to run twice. It finds the lab's pieces three ways: podman's and Docker's containers through the lab's own
 * podman storage and dockerd, processes by a path under the lab directory in their command line (etcd, daemons, conmon,
 * containerd and its shims) or a root there (containers) or by the lab's pod cgroup (CRI pods), and namespaces by the
 * lab's name prefix. What containerd mounted under the directory is unmounted. The report files stay.
 */
import { CNI_PATH } from '../defaults.ts';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteNamedNetns, listNamedNetns } from '../kernel/mod.ts';
import { destroyByPrefix } from '../sim/mod.ts';
import { stopContainerdState } from './containerd.ts';
import { labCgroup, labPrefix } from './names.ts';
import { dockerAt } from './docker.ts';
import { Podman } from './podman.ts';
import { REPORT_MD, REPORT_SVG } from './report.ts';
import { readState } from './state.ts';

const REPORT_FILES = [REPORT_MD, REPORT_SVG];

/** Processes that belong to the lab in `dir`, never this one or its ancestors. */
export function labProcesses(dir: string): number[] {
  const inside = `${dir}/`;
  const mine = new Set<number>();
  for (let p = process.pid; p > 1; ) {
    mine.add(p);
    try {
      p = Number(/^\d+ \(.*\) \S (\d+)/.exec(readFileSync(`/proc/${p}/stat`, 'utf8'))?.[1] ?? 0);
    } catch {
      break;
    }
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      let root = '';
      try {
        root = readlinkSync(`/proc/${pid}/root`);
      } catch {
        // a process we may not inspect is not ours
      }
      if (cmd.includes(inside) || root.startsWith(inside)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Removes the lab's processes, containers and namespaces (not its files); returns what it removed. */
export function cleanLeftovers(dir: string, out: (l: string) => void): { processes: number; namespaces: string[] } {
  let podmanNetns: string[] = [];
  try {
    podmanNetns = readState(dir).podmanNetns;
  } catch {
    // no state: the prefix and the process scan still find everything else
  }
  const prefix = labPrefix(dir);
  for (const h of existsSync(dir) ? readdirSync(dir).filter((d) => /^h\d+$/.test(d)) : []) {
    const pdir = join(dir, h, 'podman');
    const hostNs = `/run/netns/${prefix}${h}`;
    if (existsSync(join(pdir, 'containers.conf')) && existsSync(hostNs)) {
      new Podman(pdir, { nsPath: hostNs, netConfDir: join(dir, h, 'net.d'), pluginDirs: [join(dir, 'cni-bin'), ...CNI_PATH] }).removeAll();
    }
  }
  // Docker's containers first, through their dockerd (their processes would otherwise be orphaned by a kill).
  for (const h of existsSync(dir) ? readdirSync(dir).filter((d) => /^h\d+$/.test(d)) : []) {
    const sock = join(dir, h, 'docker', 'docker.sock');
    if (!existsSync(sock)) continue;
    const ids = dockerAt(`unix://${sock}`, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) dockerAt(`unix://${sock}`, ['rm', '-f', ...ids]);
  }
  const pids = labProcesses(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // containerd's pods (found by their cgroup), the shims' sockets, its mounts (rootfs, shm, pod namespaces).
  for (const h of existsSync(dir) ? readdirSync(dir).filter((d) => /^h\d+$/.test(d)) : []) {
    if (existsSync(join(dir, h, 'containerd'))) stopContainerdState(join(dir, h, 'containerd'), labCgroup(dir));
  }
  const namespaces = destroyByPrefix(prefix);
  for (const n of podmanNetns) if (listNamedNetns().includes(n)) deleteNamedNetns(n);
  if (pids.length + namespaces.length > 0) out(`  removed ${pids.length} process(es) and ${namespaces.length} namespace(s)`);
  return { processes: pids.length, namespaces };
}

export function labDown(dir: string, out: (l: string) => void): void {
  const { processes, namespaces } = cleanLeftovers(dir, out);
  let files = 0;
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      if (REPORT_FILES.includes(f)) continue;
      rmSync(join(dir, f), { recursive: true, force: true });
      files++;
    }
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }
  out(
    processes + namespaces.length + files === 0
      ? `weft lab: nothing to remove in ${dir}`
      : `weft lab: removed the lab in ${dir}${existsSync(dir) ? ' (the report stays)' : ''}`,
  );
}
