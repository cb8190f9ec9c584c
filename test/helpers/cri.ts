/**
 * The test plays kubelet: a pod's sandbox is run, read, stopped and removed over CRI with the fields kubelet
 * fills (metadata with a UID, hostname, log directory, DNS config, hostPort mappings, the pod's labels, a pod
 * cgroup parent, pod-scoped network and IPC namespaces and a container-scoped PID namespace), and what the
 * runtime reports is checked against the kernel with independent tools (`ip -j` and busybox inside the pod's
 * namespace).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PodSandboxConfig, PodSandboxStatus } from '../../pkg/cri/mod.ts';
import { podNetns } from '../../pkg/lab/containerd.ts';
import type { CriHost } from './containerd.ts';
import { ipJson } from './sh.ts';

export interface CriPod {
  readonly id: string;
  readonly name: string;
  readonly host: CriHost;
  /** PodSandboxStatus right after RunPodSandbox (verbose). */
  readonly status: PodSandboxStatus;
  /** /proc/<pause pid>/ns/net */
  readonly netns: string;
  /** Every address the runtime reports: status.ip, then additional_ips. */
  readonly ips: readonly string[];
}

export interface PodOptions {
  readonly namespace?: string;
  /** hostPort -> containerPort, TCP. */
  readonly hostPorts?: ReadonlyArray<readonly [number, number]>;
  /** The runtime handler (RuntimeClass), whose CNI config directory containerd then uses. */
  readonly handler?: string;
}

/** The PodSandboxConfig kubelet sends for a pod of `name` (kuberuntime's generatePodSandboxConfig). */
export function kubeletSandboxConfig(h: CriHost, name: string, o: PodOptions = {}): PodSandboxConfig {
  const namespace = o.namespace ?? 'default';
  const uid = randomUUID();
  return {
    metadata: { name, uid, namespace, attempt: 0 },
    hostname: name,
    logDirectory: join(h.containerd.dir, 'pods', `${namespace}_${name}_${uid}`),
    dnsConfig: {
      servers: ['10.96.0.10'],
      searches: [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    },
    portMappings: (o.hostPorts ?? []).map(([hostPort, containerPort]) => ({ protocol: 'TCP' as const, containerPort, hostPort })),
    labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid },
    annotations: { 'kubernetes.io/config.source': 'api' },
    linux: { cgroupParent: h.containerd.cgroupParent, namespaces: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
  };
}

export async function runPod(h: CriHost, name: string, o: PodOptions = {}): Promise<CriPod> {
  const cri = h.containerd.cri;
  const id = await cri.runPodSandbox(kubeletSandboxConfig(h, name, o), o.handler);
  const status = await cri.podSandboxStatus(id, true);
  return { id, name, host: h, status, netns: podNetns(status), ips: [status.ip, ...status.additionalIps] };
}

/** StopPodSandbox, then RemovePodSandbox, as kubelet does when a pod is deleted. */
export async function deletePod(p: CriPod): Promise<void> {
  await p.host.containerd.cri.stopPodSandbox(p.id);
  await p.host.containerd.cri.removePodSandbox(p.id);
}

/** `ip -j ARGS` inside a namespace given by path, parsed. */
export function ipIn<T>(netns: string, args: readonly string[]): T {
  const r = spawnSync('nsenter', [`--net=${netns}`, 'ip', '-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -j ${args.join(' ')} in ${netns}: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as T;
}

/** The pod's addresses as the kernel has them: every global address on every interface but lo. */
export function kernelAddrs(netns: string): string[] {
  return ipIn<Array<{ ifname: string; addr_info: Array<{ local: string; scope: string }> }>>(netns, ['addr', 'show'])
    .filter((l) => l.ifname !== 'lo')
    .flatMap((l) => l.addr_info.filter((a) => a.scope === 'global').map((a) => a.local));
}

export function pingIn(netns: string, target: string): boolean {
  return spawnSync('nsenter', [`--net=${netns}`, 'ping', '-c', '1', '-W', '2', '-q', target]).status === 0;
}

/**
 * One TCP exchange: a busybox nc server in `server` (a namespace path) sends a line on `port`; a client in
 * `client` connects to `target:targetPort` and must receive it.
 */
export async function tcpExchange(server: string, port: number, client: string, target: string, targetPort = port): Promise<boolean> {
  const msg = `weft-cri-${Math.random().toString(36).slice(2, 8)}`;
  const srv = spawn('nsenter', [`--net=${server}`, 'busybox', 'nc', '-l', '-p', String(port)], { stdio: ['pipe', 'ignore', 'ignore'] });
  srv.stdin.end(`${msg}\n`);
  try {
    for (let i = 0; i < 30; i++) {
      const r = spawnSync('nsenter', [`--net=${client}`, 'busybox', 'nc', '-w', '2', target, String(targetPort)], {
        encoding: 'utf8',
        timeout: 5000,
      });
      if ((r.stdout ?? '').includes(msg)) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  } finally {
    srv.kill('SIGKILL');
  }
}

/** Addresses the weft plugin holds on the host's default network (address files, one per address). */
export function heldAddresses(h: CriHost): string[] {
  const dir = join(h.daemon.cniDataDir, '_default', 'ips');
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('last_') && !f.startsWith('.')) : [];
}

/** Attachment records the weft plugin keeps on the host's default network. */
export function attachmentRecords(h: CriHost): string[] {
  const dir = join(h.daemon.cniDataDir, '_default', 'attachments');
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : [];
}

/** The host ends of pods' veths on the host. */
export function hostVeths(h: CriHost): string[] {
  return ipJson<Array<{ ifname: string }>>(h.host.name, ['link', 'show'])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('veth'));
}

/** The pods' network namespaces containerd holds (netns_mounts_under_state_dir). */
export function podNamespaces(h: CriHost): string[] {
  const dir = join(h.containerd.dir, 'state', 'io.containerd.grpc.v1.cri', 'netns');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** portmap's DNAT chains on the host (`CNI-DN-<hash of the container>`), from iptables-save. */
export function hostPortChains(h: CriHost): string[] {
  const r = spawnSync('nsenter', [`--net=${h.host.path}`, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .filter((l) => /^:CNI-DN-/.test(l))
    .map((l) => l.slice(1).split(' ')[0]!);
}
