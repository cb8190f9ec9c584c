/**
 * Simulated hosts, each with weft's daemon and a containerd of its own (pkg/lab/containerd.ts) whose CRI
 * plugin reads that host's weft conflist, as on a Kubernetes node after `weft install`: the conflist
 * `weft install` writes (pkg/install conflistFor: weft, then portmap) in the CRI plugin's `conf_dir`, and a
 * `bin_dir` holding weft with the reference plugins (containerd also runs `loopback` from it). The daemon runs
 * in etcd mode, or in Kubernetes mode against the stand-in API server (pkg/sim/fake-kube.ts) with each node's
 * podCIDR. containerds are removed after the test, before the daemons and namespaces.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflistFor } from '../../pkg/install/install.ts';
import { SimContainerd } from '../../pkg/lab/containerd.ts';
import { FakeKube } from '../../pkg/sim/fake-kube.ts';
import type { SimCluster, SimDaemon, SimHost } from '../../pkg/sim/mod.ts';
import { WEFT_BIN } from './cni.ts';
import { testCluster, testDir } from './cluster.ts';
import { defer, deferOnFailure } from './netns.ts';
import { RUN_ID } from './run-id.ts';

export interface CriHost {
  readonly n: number;
  readonly host: SimHost;
  readonly daemon: SimDaemon;
  readonly containerd: SimContainerd;
}

export interface CriClusterOptions {
  readonly hosts: number;
  /** Kubernetes mode: node h<n> gets podCIDR 10.244.<n>.0/24 (and fd00:244:0:<n>::/64 with ipv6). */
  readonly kube?: boolean;
  /** Dual-stack: the network gets IPv6 too (IPv6 underlay, both podCIDRs in Kubernetes mode). */
  readonly ipv6?: boolean;
  /**
   * More runtime handlers per host, each with a CNI config directory of its own (`net.d-<handler>`), holding the
   * conflist given, or none yet (a named network's, written once the network exists).
   */
  readonly handlers?: Readonly<Record<string, ((n: number, dir: string) => object) | undefined>>;
}

export interface CriCluster {
  readonly c: SimCluster;
  readonly hosts: readonly CriHost[];
  readonly fake: FakeKube | undefined;
}

/**
 * dist/weft pinned for one test: a hard link to the file (a copy across file systems), once it runs. Other
 * work on this machine rebuilds dist/weft while suites run (bundle/sea.ts removes it, writes it, renames a copy
 * over it), and a pod started in that window found no plugin; the link keeps this test's executable whole.
 */
export function pinnedWeft(dir: string): string {
  const exe = join(dir, 'weft');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (const until = Date.now() + 120_000; ; Atomics.wait(nap, 0, 0, 500)) {
    rmSync(exe, { force: true });
    try {
      linkSync(WEFT_BIN, exe);
    } catch {
      try {
        copyFileSync(WEFT_BIN, exe);
      } catch {
        // not there at the moment: being rebuilt
      }
    }
    if (existsSync(exe) && spawnSync(exe, ['--version'], { timeout: 30_000 }).status === 0) return exe;
    if (Date.now() > until) throw new Error(`${WEFT_BIN} did not become a working executable within 120 s (is a build failing?)`);
  }
}

/** One directory of CNI plugins for every containerd: weft and Debian's reference plugins. */
export function cniBinDir(dir: string, weft: string): string {
  const bin = join(dir, 'cni-bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(weft, join(bin, 'weft'));
  for (const p of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', p), join(bin, p));
  return bin;
}

/** What `weft install --subnet-file F` writes as 10-weft.conflist, with this simulated host's state directory. */
export function weftConflist(d: SimDaemon): object {
  const conf = conflistFor({ network: 'cbr0', cniVersion: '1.0.0', subnetFile: d.subnetFile }, true) as {
    plugins: Array<Record<string, unknown>>;
  };
  conf.plugins[0] = { ...conf.plugins[0], dataDir: d.cniDataDir };
  return conf;
}

export async function criCluster(tag: string, o: CriClusterOptions): Promise<CriCluster> {
  const dir = testDir(tag);
  const weft = pinnedWeft(dir);
  const c = await testCluster(tag, { dir, bin: weft, ...(o.kube && { config: null }), ...(o.ipv6 && { ipv6: true }) });
  let fake: FakeKube | undefined;
  let args: string[] = [];
  if (o.kube) {
    const api = await c.sim.addHost(251);
    const f = FakeKube.start(api.netns, api.ip);
    fake = f;
    defer(() => f.close());
    args = f.daemonArgs(testDir(`${tag}-kube`), '10.244.0.0/16', o.ipv6 ? 'fd00:244::/56' : undefined);
    for (let n = 1; n <= o.hosts; n++)
      f.put({ metadata: { name: `h${n}` }, spec: { podCIDRs: [`10.244.${n}.0/24`, ...(o.ipv6 ? [`fd00:244:0:${n}::/64`] : [])] } });
  } else if (o.ipv6) {
    await c.putConfig({ Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:244::/56', Backend: { Type: 'vxlan' } });
  }
  const bin = cniBinDir(dir, weft);
  const hosts: CriHost[] = [];
  for (let n = 1; n <= o.hosts; n++) {
    const daemon = await c.addHost(n, args);
    const ctdDir = join(dir, `h${n}`, 'containerd');
    const confDir = join(ctdDir, 'net.d');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, '10-weft.conflist'), JSON.stringify(weftConflist(daemon), null, 2));
    const handlers = Object.fromEntries(
      Object.entries(o.handlers ?? {}).map(([h, conf]) => {
        const d = join(ctdDir, `net.d-${h}`);
        mkdirSync(d, { recursive: true });
        if (conf) writeFileSync(join(d, `10-${h}.conflist`), JSON.stringify(conf(n, ctdDir)));
        return [h, d];
      }),
    );
    const containerd = new SimContainerd(ctdDir, {
      nsPath: daemon.host.path,
      cniConfDir: confDir,
      cniBinDir: bin,
      handlers,
      cgroupParent: `/weft-t-${RUN_ID}-${tag}-h${n}`,
    });
    defer(() => containerd.destroy());
    hosts.push({ n, host: daemon.host, daemon, containerd });
  }
  deferOnFailure(() => {
    for (const h of hosts) console.error(`--- containerd of h${h.n} (${h.containerd.status}):\n${h.containerd.log(25)}`);
  });
  for (const h of hosts) h.containerd.start();
  await c.startAll();
  await Promise.all(hosts.map((h) => h.containerd.ready()));
  return { c, hosts, fake };
}
