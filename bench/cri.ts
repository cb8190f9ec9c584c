/**
 * What weft's conflist costs a pod started the Kubernetes way, next to Debian's reference `bridge` +
 * `host-local` on the same containerd in the same run: RunPodSandbox (the sandbox image's snapshot, the
 * shim, runc, the pod's network namespace and the whole CNI chain: loopback, then the conflist, portmap
 * included) and StopPodSandbox + RemovePodSandbox, p50 and p90 over N cycles each, alternating so both see
 * the same machine. One simulated host with a real etcd and weft's daemon, one containerd (pkg/lab/containerd.ts)
 * with two runtime handlers: `runc` reads weft's conflist (what `weft install` writes), `bridge` the reference
 * one (containerd 1.6's per-handler `cni_conf_dir`). Kubelet is played over CRI (pkg/cri).
 * Run as root after `npm run bundle`:  npm run bench:cri [-- N]
 */
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PodSandboxConfig } from '../pkg/cri/mod.ts';
import { conflistFor } from '../pkg/install/install.ts';
import { containerdAvailable, removeContainerdState, SimContainerd } from '../pkg/lab/containerd.ts';
import { percentile, table } from '../pkg/measure/mod.ts';
import { benchCluster, WEFT } from './cluster.ts';

const N = Number(process.argv[2] ?? 20);

async function main(): Promise<void> {
  if (!containerdAvailable()) throw new Error('needs containerd, ctr, runc and busybox-static: run scripts/setup.sh');
  const { c, stop } = await benchCluster('cri', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
  const dir = join(c.opts.dir, 'containerd');
  const cgroupParent = `/weft-bench-cri-${process.pid}`;
  let ctd: SimContainerd | undefined;
  // Before benchCluster's own Ctrl-C handler, which exits: the pods, mounts and cgroups go first.
  process.prependOnceListener('SIGINT', () => removeContainerdState(dir, cgroupParent));
  try {
    const d = await c.addHost(1);
    const bin = join(c.opts.dir, 'cni-bin');
    mkdirSync(bin, { recursive: true });
    // A hard link: the executable this run measures, whatever rebuilds dist/weft meanwhile.
    linkSync(WEFT, join(c.opts.dir, 'weft'));
    symlinkSync(join(c.opts.dir, 'weft'), join(bin, 'weft'));
    for (const p of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', p), join(bin, p));
    const weftConf = conflistFor({ network: 'cbr0', cniVersion: '1.0.0', subnetFile: d.subnetFile }, true) as {
      plugins: Array<Record<string, unknown>>;
    };
    weftConf.plugins[0] = { ...weftConf.plugins[0], dataDir: d.cniDataDir };
    const refConf = {
      cniVersion: '1.0.0',
      name: 'bridge-ref',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni-ref0',
          isGateway: true,
          ipMasq: true,
          mtu: 1450,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.99.0.0/16' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(dir, 'host-local'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    };
    for (const [sub, name, conf] of [
      ['net.d', 'cbr0', weftConf],
      ['net.d-bridge', refConf.name, refConf],
    ] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, `10-${name}.conflist`), JSON.stringify(conf));
    }
    ctd = new SimContainerd(dir, {
      nsPath: d.host.path,
      cniConfDir: join(dir, 'net.d'),
      cniBinDir: bin,
      handlers: { bridge: join(dir, 'net.d-bridge') },
      cgroupParent,
    });
    ctd.start();
    await c.startAll();
    await ctd.ready();
    const cri = ctd.cri;

    const config = (name: string): PodSandboxConfig => {
      const uid = randomUUID();
      return {
        metadata: { name, uid, namespace: 'default' },
        hostname: name,
        logDirectory: join(dir, 'pods', `default_${name}_${uid}`),
        dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
        labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid },
        linux: { cgroupParent, namespaces: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
      };
    };
    const labels = { 'bridge + host-local (Debian)': 'bridge', weft: '' } as const;
    const samples = new Map<string, { run: number[]; del: number[] }>(Object.keys(labels).map((k) => [k, { run: [], del: [] }]));
    const cycle = async (label: keyof typeof labels, i: number) => {
      let t = performance.now();
      const id = await cri.runPodSandbox(config(`b${i}-${labels[label] || 'weft'}`), labels[label] || undefined);
      const run = performance.now() - t;
      // Each handler really ran its own conflist: the address comes from its range.
      const { ip } = await cri.podSandboxStatus(id);
      const want = label === 'weft' ? '10.244.' : '10.99.';
      if (!ip.startsWith(want)) throw new Error(`${label}: the pod's address ${ip || '(none)'} is not from ${want}0.0/16`);
      t = performance.now();
      await cri.stopPodSandbox(id);
      await cri.removePodSandbox(id);
      const del = performance.now() - t;
      if (i >= 0) {
        samples.get(label)!.run.push(run);
        samples.get(label)!.del.push(del);
      }
    };
    // Warm both paths once (the image's first snapshot, the plugins' first runs), unmeasured.
    await cycle('bridge + host-local (Debian)', -1);
    await cycle('weft', -1);
    for (let i = 0; i < N; i++) {
      // Alternate which goes first, so neither always follows the other's teardown.
      const order = i % 2 === 0 ? (['bridge + host-local (Debian)', 'weft'] as const) : (['weft', 'bridge + host-local (Debian)'] as const);
      for (const l of order) await cycle(l, i);
    }
    const stat = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: percentile(s, 50), p90: percentile(s, 90) };
    };
    const base = samples.get('bridge + host-local (Debian)')!;
    const [baseRun, baseDel] = [stat(base.run), stat(base.del)];
    const rows = [['conflist', 'RunPodSandbox p50', 'p90', 'ratio', 'Stop+Remove p50', 'p90', 'ratio']];
    for (const [label, s] of samples) {
      const [run, del] = [stat(s.run), stat(s.del)];
      rows.push([
        label,
        `${run.p50.toFixed(0)} ms`,
        `${run.p90.toFixed(0)} ms`,
        (run.p50 / baseRun.p50).toFixed(2),
        `${del.p50.toFixed(0)} ms`,
        `${del.p90.toFixed(0)} ms`,
        (del.p50 / baseDel.p50).toFixed(2),
      ]);
    }
    const v = await cri.version();
    process.stdout.write(
      `Pod sandboxes through ${v.runtimeName} ${v.runtimeVersion}'s CRI (${v.runtimeApiVersion}), ${N} cycles each ` +
        '(one host, one containerd, a runtime handler per conflist)\n' +
        `${table(rows)}\n`,
    );
  } finally {
    ctd?.cri.close();
    removeContainerdState(dir, cgroupParent);
    stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cri: ${(e as Error).message}\n`);
  process.exit(1);
});
