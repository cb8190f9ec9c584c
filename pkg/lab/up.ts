/**
 * `weft lab up`: on this one machine, the lab Docker's and flannel's users built on several VMs: an
 * underlay, an etcd, N hosts each running `weft daemon`, the networks RED, BLUE (dual-stack) and GREEN
 * (dual-stack), and containers on them
 * (Docker on host 1, podman on host 2 and a CRI pod on containerd on host 3 where they work, plain
 * namespaces attached with `weft network connect` otherwise); then the seed
 * scenario's checks. Everything it makes is named `<prefix>...` or lives under the lab directory, and its
 * processes outlive this command until `weft lab down`.
 */
import { CNI_PATH, DOCKER_DNS_ADDRESS } from '../defaults.ts';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonCall } from '../contract/mod.ts';
import { WeftError, messageOf } from '../errors/mod.ts';
import { ETCD_HOST, SimCluster, SimPki, waitFor } from '../sim/mod.ts';
import { runChecks, type CheckResult } from './checks.ts';
import { cleanLeftovers } from './down.ts';
import { labCgroup, labPrefix } from './names.ts';
import { containerdAvailable, podNetns, SimContainerd } from './containerd.ts';
import { DOCKER_IMAGE, dockerAvailable, SimDocker } from './docker.ts';
import { Podman, podmanAvailable } from './podman.ts';
import { LAB_ETCD_PREFIX, selfExecutable, writeState, type LabContainer, type LabState } from './state.ts';
import { familyOf } from '../netaddr/family.ts';

export interface UpOptions {
  readonly dir: string;
  readonly hosts: number;
  readonly podman: boolean;
  /** Host 1 runs dockerd with weft as its network plugin: RED and container1 are made with docker commands. */
  readonly docker: boolean;
  /** Host 3 runs containerd, and container6 is a pod started through its CRI as kubelet starts one (default on). */
  readonly containerd?: boolean;
  /** etcd with TLS and client-certificate auth, certificates made with openssl in <dir>/pki. */
  readonly etcdTls?: boolean;
  readonly out: (line: string) => void;
}

const NETWORKS: ReadonlyArray<{ name: string; subnet: string; subnet6?: string }> = [
  { name: 'RED', subnet: '10.10.10.0/24' },
  { name: 'BLUE', subnet: '10.10.20.0/24', subnet6: 'fd00:10:20::/64' },
  { name: 'GREEN', subnet: '10.10.30.0/24', subnet6: 'fd00:10:30::/64' },
];
const TOOLS: Array<[string, string]> = [
  ['openssl', 'openssl'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['etcd', 'etcd-server'],
  ['busybox', 'busybox-static'],
  ['ping', 'iputils-ping'],
  ['getent', 'libc-bin'],
  ['nft', 'nftables'],
];

/** Runs `fn` as a named step with progress; a failure says which step and what to do. */
export async function step<T>(
  out: (l: string) => void,
  label: string,
  fn: () => Promise<T> | T,
  hint = 'run weft lab down to remove what was made, then try again',
): Promise<T> {
  const t0 = performance.now();
  out(`  ${label} ...`);
  try {
    const v = await fn();
    out(`  ${label}: done (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return v;
  } catch (e) {
    throw new WeftError('WEFT_INTERNAL', `lab: ${label} failed: ${messageOf(e)}; ${hint}`, { cause: e });
  }
}

function preflight(o: UpOptions): void {
  if (process.getuid?.() !== 0) throw new WeftError('WEFT_INVALID_ARGUMENT', 'weft lab needs root (it creates network namespaces)');
  const missing = TOOLS.filter(([t]) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0)
    throw new WeftError(
      'WEFT_NOT_FOUND',
      `weft lab needs ${missing.map(([t]) => t).join(', ')}: ` +
        `apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')} (or run ./scripts/setup.sh)`,
    );
  if (!Number.isInteger(o.hosts) || o.hosts < 2 || o.hosts > 20)
    throw new WeftError('WEFT_INVALID_ARGUMENT', `--hosts ${o.hosts} must be from 2 to 20`);
  if (existsSync(join(o.dir, 'lab.json')))
    throw new WeftError(
      'WEFT_ALREADY_EXISTS',
      `a lab is already up in ${o.dir} (weft lab status); remove it with weft lab down --dir ${o.dir}`,
    );
}

/** `weft network connect` for a namespace, run in its host as an operator would; the CNI result. */
function connect(
  bin: string,
  cniPath: readonly string[],
  host: { path: string; socket: string },
  net: string,
  netns: string,
  name: string,
  ifname: string,
): { ips: Array<{ address: string }>; dns?: { nameservers?: string[]; search?: string[] } } {
  const r = spawnSync(
    'nsenter',
    [`--net=${host.path}`, bin, 'network', 'connect', net, '--netns', netns, '--name', name, '--ifname', ifname],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, WEFT_SOCKET: host.socket, CNI_PATH: cniPath.join(':') },
    },
  );
  if (r.status !== 0) throw new Error(`weft network connect ${net} --name ${name}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as ReturnType<typeof connect>;
}

/** `ip -j ARGS` inside a namespace, parsed. */
function ipJsonIn<T>(netns: string, args: readonly string[]): T {
  return JSON.parse(spawnSync('nsenter', [`--net=${netns}`, 'ip', '-j', ...args], { encoding: 'utf8' }).stdout) as T;
}

function resolvConfText(dns: Array<{ nameservers?: string[]; search?: string[] } | undefined>): string {
  const ns = [...new Set(dns.flatMap((d) => d?.nameservers ?? []))];
  const search = [...new Set(dns.flatMap((d) => d?.search ?? []))];
  return [
    ...ns.map((s) => `nameserver ${s}`),
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    'options timeout:1 attempts:2',
    '',
  ].join('\n');
}

export async function labUp(o: UpOptions): Promise<{ state: LabState; checks: CheckResult[] }> {
  preflight(o);
  const prefix = labPrefix(o.dir);
  const bin = selfExecutable();
  o.out(`weft lab: ${o.hosts} hosts on one machine, in ${o.dir} (namespaces ${prefix}*)`);
  await step(o.out, 'removing what an earlier lab left', () => cleanLeftovers(o.dir, () => {}));
  mkdirSync(o.dir, { recursive: true });
  const c = await step(o.out, `underlay 192.0.2.0/24 and etcd on 192.0.2.250${o.etcdTls ? ' (TLS, client certificates)' : ''}`, () => {
    if (!o.etcdTls) return SimCluster.create({ netnsPrefix: prefix, dir: o.dir, etcdPrefix: LAB_ETCD_PREFIX, bin, detach: true });
    const pki = new SimPki(join(o.dir, 'pki'));
    const tls = { ca: pki.ca, server: pki.issue('etcd', { sans: [`IP:192.0.2.${ETCD_HOST}`] }), clientCertAuth: true };
    return SimCluster.create({
      netnsPrefix: prefix,
      dir: o.dir,
      etcdPrefix: LAB_ETCD_PREFIX,
      bin,
      detach: true,
      etcd: { tls },
      clientCert: pki.issue('weft-daemon'),
    });
  });
  try {
    const useDocker = o.docker && dockerAvailable();
    const ddir = join(o.dir, 'h1', 'docker');
    let docker: SimDocker | undefined;
    await step(
      o.out,
      `${o.hosts} hosts running weft daemon${useDocker ? ', host 1 also dockerd with weft as its network plugin' : ''}`,
      async () => {
        for (let n = 1; n <= o.hosts; n++)
          await c.addHost(
            n,
            n === 1 && useDocker
              ? [
                  '--docker',
                  `--docker-plugin-socket=${join(ddir, 'run/plugins/weft.sock')}`,
                  `--docker-host=unix://${join(ddir, 'docker.sock')}`,
                ]
              : [],
          );
        if (useDocker) {
          docker = new SimDocker(ddir, c.hosts[0]!.path, `${prefix}h1`.replace(/[^a-zA-Z0-9_.-]/g, ''), DOCKER_DNS_ADDRESS, {
            detach: true,
          });
          docker.start();
        }
        await c.startAll();
        await docker?.ready();
      },
      "see the daemons' logs in <dir>/h<N>/daemon.log (dockerd's in <dir>/h1/docker/dockerd.log), then weft lab down",
    );
    const host = (n: number) => ({ path: c.hosts[n - 1]!.path, socket: c.daemon(n).socket });
    const how = docker ? 'RED by docker network create on host 1, the others by weft network create' : 'by weft network create';
    const listed = NETWORKS.map((n) => `${n.name} (${[n.subnet, ...(n.subnet6 ? [n.subnet6] : [])].join(', ')})`).join(', ');
    await step(o.out, `networks ${listed}, ${how}`, async () => {
      for (const net of NETWORKS) {
        if (docker && net.name === 'RED') {
          const r = docker.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', `--subnet=${net.subnet}`, net.name]);
          if (!r.ok) throw new Error(`docker network create: ${r.stderr.trim()}`);
        } else
          await daemonCall(c.daemon(1).socket, 'POST', '/v1/networks', {
            name: net.name,
            subnet: net.subnet,
            ...(net.subnet6 && { ipv6: true, subnet6: net.subnet6 }),
          });
      }
      for (let n = 1; n <= o.hosts; n++) {
        for (const net of NETWORKS)
          await waitFor(
            `${net.name} on host ${n}`,
            () => existsSync(join(c.daemon(n).cniConfDir, `weft-${net.name}.conflist`)),
            20_000,
            100,
          );
      }
    });

    // The lab's own weft comes first in the plugin path: a weft installed in /opt/cni/bin may be another version.
    const cniBin = join(o.dir, 'cni-bin');
    mkdirSync(cniBin, { recursive: true });
    rmSync(join(cniBin, 'weft'), { force: true }); // left by a half-finished earlier up
    symlinkSync(bin, join(cniBin, 'weft'));
    const cniPath = [cniBin, ...CNI_PATH];
    const containers: LabContainer[] = [];
    const podmanNetns: string[] = [];
    const cdir = join(o.dir, 'containers');
    mkdirSync(cdir, { recursive: true });
    const manual = async (name: string, n: number, nets: string[]) => {
      const ns = await c.sim.namespace(`c-${name}`);
      const results = nets.map((net, i) => ({ net, r: connect(bin, cniPath, host(n), net, ns.path, name, `eth${i}`) }));
      const resolvConf = join(cdir, `${name}.resolv.conf`);
      writeFileSync(resolvConf, resolvConfText(results.map((x) => x.r.dns)));
      containers.push({
        name,
        host: n,
        netns: ns.path,
        via: 'weft network connect',
        resolvConf,
        addresses: Object.fromEntries(results.map((x) => [x.net, x.r.ips[0]!.address.split('/')[0]!])),
        addresses6: Object.fromEntries(
          results.flatMap((x) => {
            const v6 = x.r.ips.find((i) => familyOf(i.address) === 6);

            return v6 ? [[x.net, v6.address.split('/')[0]!]] : [];
          }),
        ),
      });
    };
    const third = Math.min(3, o.hosts);
    const dockerRun = (d: SimDocker) => {
      const r = d.run(['run', '-d', '--net=RED', '--name', 'container1', DOCKER_IMAGE, 'sleep', 'infinity']);
      if (!r.ok) throw new Error(`docker run: ${r.stderr.trim()}`);
      const ip = d.run(['inspect', '-f', '{{.NetworkSettings.Networks.RED.IPAddress}}', 'container1']).stdout.trim();
      // Docker's embedded DNS answers in the container's namespace and forwards other hosts' names to weft.
      const resolvConf = join(cdir, 'container1.resolv.conf');
      writeFileSync(resolvConf, 'nameserver 127.0.0.11\noptions ndots:0 timeout:1 attempts:2\n');
      containers.push({
        name: 'container1',
        host: 1,
        netns: d.netnsOf('container1'),
        via: 'docker run',
        resolvConf,
        addresses: { RED: ip },
      });
    };
    await step(o.out, `container1 on RED (host 1), ${docker ? 'docker run --net=RED' : 'attached by hand'}`, () =>
      docker ? dockerRun(docker) : manual('container1', 1, ['RED']),
    );
    const usePodman = o.podman && podmanAvailable();
    await step(
      o.out,
      `container2 on RED (host 2), ${usePodman ? 'run by podman' : 'attached by hand (podman not available)'}`,
      async () => {
        if (!usePodman) return manual('container2', 2, ['RED']);
        const p = new Podman(join(o.dir, 'h2', 'podman'), {
          nsPath: host(2).path,
          netConfDir: c.daemon(2).cniConfDir,
          pluginDirs: cniPath,
        });
        const before = new Set(readdirSync('/run/netns'));
        const r = p.run(['-d', '--name', 'container2', '--network', 'RED'], ['sleep', 'infinity']);
        podmanNetns.push(...readdirSync('/run/netns').filter((x) => !before.has(x) && x.startsWith('netns-')));
        if (!r.ok) throw new Error(`podman run: ${r.stderr.trim()}`);
        const netns = `/proc/${p.pid('container2')}/ns/net`;
        const ip = ipJsonIn<Array<{ addr_info: Array<{ local: string }> }>>(netns, ['-4', 'addr', 'show', 'eth0'])[0]!.addr_info[0]!.local;
        // podman writes its own resolv.conf; the checks use one like weft's ADD result describes (the gateway serves DNS).
        const gateway = ipJsonIn<Array<{ gateway: string }>>(netns, ['route', 'show', 'default'])[0]!.gateway;
        const resolvConf = join(cdir, 'container2.resolv.conf');
        writeFileSync(resolvConf, resolvConfText([{ nameservers: [gateway], search: ['RED'] }]));
        containers.push({ name: 'container2', host: 2, netns, via: 'podman', resolvConf, addresses: { RED: ip } });
      },
    );
    await step(o.out, 'container3 on RED and BLUE (host 2)', () => manual('container3', 2, ['RED', 'BLUE']));
    await step(o.out, `container4 on BLUE (host ${third})`, () => manual('container4', third, ['BLUE']));
    await step(o.out, 'container5 on GREEN (host 1)', () => manual('container5', 1, ['GREEN']));
    const useContainerd = (o.containerd ?? true) && containerdAvailable();
    let pod: Awaited<ReturnType<typeof criPod>> | undefined;
    await step(
      o.out,
      `container6 on RED (host ${third}), ${useContainerd ? "a pod run through containerd's CRI" : 'attached by hand (no containerd)'}`,
      async () => {
        if (!useContainerd) return manual('container6', third, ['RED']);
        pod = await criPod(o.dir, third, bin, host(third).path, c.daemon(third).cniConfDir, labCgroup(o.dir));
        const { netns, ip } = pod;
        const gateway = ipJsonIn<Array<{ gateway: string }>>(netns, ['route', 'show', 'default'])[0]!.gateway;
        const resolvConf = join(cdir, 'container6.resolv.conf');
        writeFileSync(resolvConf, resolvConfText([{ nameservers: [gateway], search: ['RED'] }]));
        containers.push({
          name: 'container6',
          host: third,
          netns,
          via: 'containerd (CRI)',
          resolvConf,
          addresses: { RED: ip },
          // Kubernetes names a pod by namespace: K8S_POD_NAME.K8S_POD_NAMESPACE on the network.
          endpoint: 'container6.default',
        });
      },
      `see containerd's log in <dir>/h${third}/containerd/containerd.log, then weft lab down`,
    );

    const state: LabState = {
      dir: o.dir,
      created: new Date().toISOString(),
      bin,
      hosts: c.hosts.filter(Boolean).map((h) => ({ n: h.n, name: h.name, ip: h.ip, dir: c.daemon(h.n).dir, socket: c.daemon(h.n).socket })),
      etcd: { ...c.etcdAccess, socketEndpoint: c.etcd.socketEndpoint },
      networks: NETWORKS,
      containers,
      podmanNetns,
      ...(docker && { docker: docker.host }),
      ...(pod && { containerd: { host: third, socket: pod.socket, sandbox: pod.sandbox } }),
    };
    writeState(state);
    o.out('');
    const checks = await runChecks(state, o.out);
    return { state, checks };
  } finally {
    c.release();
  }
}

/**
 * containerd on a lab host, its CRI plugin reading weft's RED conflist (the daemon's file, linked), plugins
 * from a directory with this weft and the reference plugins; then a pod started over CRI with what kubelet
 * sends. The pod's network namespace and address come from PodSandboxStatus.
 */
async function criPod(
  dir: string,
  n: number,
  bin: string,
  hostPath: string,
  daemonConfDir: string,
  cgroupParent: string,
): Promise<{ socket: string; sandbox: string; netns: string; ip: string }> {
  const ddir = join(dir, `h${n}`, 'containerd');
  rmSync(ddir, { recursive: true, force: true }); // left by a half-finished earlier up (down unmounted it)
  const confDir = join(ddir, 'net.d');
  const binDir = join(ddir, 'cni-bin');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  symlinkSync(join(daemonConfDir, 'weft-RED.conflist'), join(confDir, '10-weft-RED.conflist'));
  symlinkSync(bin, join(binDir, 'weft'));
  for (const d of CNI_PATH.filter((x) => existsSync(x)))
    for (const p of readdirSync(d)) if (!existsSync(join(binDir, p))) symlinkSync(join(d, p), join(binDir, p));
  const ctd = new SimContainerd(ddir, { nsPath: hostPath, cniConfDir: confDir, cniBinDir: binDir, cgroupParent, detach: true });
  ctd.start();
  try {
    await ctd.ready();
    const uid = randomUUID();
    const sandbox = await ctd.cri.runPodSandbox({
      metadata: { name: 'container6', uid, namespace: 'default' },
      hostname: 'container6',
      logDirectory: join(ddir, 'pods', `default_container6_${uid}`),
      labels: { 'io.kubernetes.pod.name': 'container6', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid },
      linux: { cgroupParent, namespaces: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    });
    const st = await ctd.cri.podSandboxStatus(sandbox, true);
    return { socket: ctd.socket, sandbox, netns: podNetns(st), ip: st.ip };
  } finally {
    ctd.cri.close();
  }
}
