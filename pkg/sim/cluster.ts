/**
 * A simulated weft cluster on one machine: an underlay, a real etcd, hosts each running `weft daemon` against
 * one etcd prefix, and pods attached by the real CNI plugin reading each daemon's lease file. Used by the
 * controller tests, the benchmarks and the lab; `destroy()` removes every namespace and process it made.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimDaemon } from './daemon.ts';
import { SimEtcd, type SimEtcdOptions } from './etcd.ts';
import type { CertFiles } from './pki.ts';
import { Sim, type SimHost, type SimNs } from './topology.ts';
import { byFamily } from '../netaddr/family.ts';

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

export const DEFAULT_CONFIG = { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } };

export interface SimPod {
  readonly ns: SimNs;
  readonly ip: string;
  /** Its IPv6 address, on a dual-stack network. */
  readonly ip6: string | undefined;
  readonly host: number;
}

export interface ClusterOptions {
  /** Prefix of every namespace name. */
  readonly netnsPrefix: string;
  /** Where etcd's data, the daemons' files and logs go. */
  readonly dir: string;
  readonly etcdPrefix: string;
  /** The weft executable (dist/weft, or the single binary). */
  readonly bin: string;
  /** Hosts get an IPv6 underlay address too (2001:db8::<n>). */
  readonly ipv6?: boolean;
  /** Network config to write, or null to write none. */
  readonly config?: object | string | null;
  /** etcd and the daemons outlive this process (the lab). */
  readonly detach?: boolean;
  /** etcd's members and TLS (default: one member, plain HTTP). */
  readonly etcd?: Omit<SimEtcdOptions, 'detach'>;
  /** The daemons' client certificate, when etcd has TLS. */
  readonly clientCert?: CertFiles;
}

/** The named networks' prefix beside a flannel prefix: /coreos.com/network -> /coreos.com/weft. */
export const weftPrefixBeside = (etcdPrefix: string): string => etcdPrefix.replace(/\/[^/]*$/, '/weft');

/** How a daemon reaches etcd: endpoints, and with TLS the CA and its client certificate. */
export interface EtcdAccess {
  readonly endpoint: string;
  readonly ca?: string | undefined;
  readonly clientCert?: CertFiles | undefined;
}

export function etcdArgs(a: EtcdAccess): string[] {
  return [
    `--etcd-endpoints=${a.endpoint}`,
    ...(a.ca ? [`--etcd-cafile=${a.ca}`] : []),
    ...(a.clientCert ? [`--etcd-certfile=${a.clientCert.cert}`, `--etcd-keyfile=${a.clientCert.key}`] : []),
  ];
}

/** The flags every simulated host's daemon gets (the lab adds hosts to a running cluster with them too). */
export function clusterDaemonArgs(etcd: EtcdAccess, etcdPrefix: string): string[] {
  return [...etcdArgs(etcd), `--etcd-prefix=${etcdPrefix}`, `--weft-prefix=${weftPrefixBeside(etcdPrefix)}`, '--resync-period=2'];
}

export class SimCluster {
  readonly sim: Sim;
  readonly etcd: SimEtcd;
  readonly opts: ClusterOptions;
  readonly hosts: SimHost[] = [];
  readonly daemons: SimDaemon[] = [];

  private constructor(sim: Sim, etcd: SimEtcd, opts: ClusterOptions) {
    this.sim = sim;
    this.etcd = etcd;
    this.opts = opts;
  }

  static async create(opts: ClusterOptions): Promise<SimCluster> {
    const sim = new Sim(opts.netnsPrefix);
    try {
      const c = new SimCluster(sim, await SimEtcd.start(sim, join(opts.dir, 'etcd'), { ...opts.etcd, detach: opts.detach ?? false }), opts);
      if (opts.config !== null) await c.putConfig(opts.config ?? DEFAULT_CONFIG);
      return c;
    } catch (e) {
      sim.destroy();
      throw e;
    }
  }

  get prefix(): string {
    return this.opts.etcdPrefix;
  }

  /** Where the named networks live: beside the flannel prefix. */
  get weftPrefix(): string {
    return weftPrefixBeside(this.opts.etcdPrefix);
  }

  async putConfig(config: object | string): Promise<void> {
    await this.etcd.client.put(`${this.prefix}/config`, typeof config === 'string' ? config : JSON.stringify(config));
  }

  /** How this cluster's daemons reach etcd. */
  get etcdAccess(): EtcdAccess {
    return { endpoint: this.etcd.endpoint, ca: this.etcd.tls?.ca, clientCert: this.opts.clientCert };
  }

  /**
   * Adds host n with a daemon (not yet started). `etcd` replaces how it reaches etcd (a test of bad
   * certificates); `hostsFile` becomes its /etc/hosts (a name for etcd that only this daemon resolves).
   */
  async addHost(
    n: number,
    daemonArgs: readonly string[] = [],
    o: { etcd?: EtcdAccess; hostsFile?: string; env?: Readonly<Record<string, string>>; ipv6?: boolean } = {},
  ): Promise<SimDaemon> {
    const host = await this.sim.addHost(n, { ipv6: o.ipv6 ?? this.opts.ipv6 ?? false });
    const d = new SimDaemon(host, {
      dir: join(this.opts.dir, `h${n}`),
      bin: this.opts.bin,
      detach: this.opts.detach ?? false,
      binds: o.hostsFile ? [[o.hostsFile, '/etc/hosts']] : [],
      env: o.env ?? {},
      args: [...clusterDaemonArgs(o.etcd ?? this.etcdAccess, this.prefix), ...daemonArgs],
    });
    this.hosts[n - 1] = host;
    this.daemons[n - 1] = d;
    return d;
  }

  /**
   * Host n reboots: its daemon dies, its containers and every kernel object go (the namespace is made anew),
   * /run is empty again (the subnet file, the daemon's run directory), /var survives (VTEP MAC, CNI state), and
   * the kernel has a new boot ID, which the new daemon (and the CLI run with its binds) sees. Not started.
   */
  async reboot(n: number, bootId: string): Promise<SimDaemon> {
    const old = this.daemon(n);
    old.kill();
    await this.sim.removeHost(n);
    rmSync(old.subnetFile, { force: true });
    rmSync(join(old.dir, 'run'), { recursive: true, force: true });
    const bootFile = join(old.dir, 'boot_id');
    writeFileSync(bootFile, `${bootId}\n`);
    const host = await this.sim.addHost(n, { ipv6: old.host.ip6 !== undefined });
    const binds = [...old.binds.filter(([, dst]) => dst !== BOOT_ID), [bootFile, BOOT_ID] as const];
    const d = new SimDaemon(host, { dir: old.dir, bin: old.bin, args: old.args, detach: this.opts.detach ?? false, binds, env: old.env });
    this.hosts[n - 1] = host;
    this.daemons[n - 1] = d;
    return d;
  }

  daemon(n: number): SimDaemon {
    return this.daemons[n - 1]!;
  }

  async startAll(): Promise<void> {
    for (const d of this.daemons) d?.start();
    await Promise.all(this.daemons.filter(Boolean).map((d) => d.ready()));
  }

  /** A pod on host n: a namespace wired by the CNI plugin (ADD) with the daemon's lease. */
  async pod(n: number, name: string): Promise<SimPod> {
    const d = this.daemon(n);
    const ns = await this.sim.namespace(`h${n}-${name}`);
    const conf = { cniVersion: '1.0.0', name: 'cbr0', type: 'weft', subnetFile: d.subnetFile, dataDir: d.cniDataDir };
    const r = spawnSync('nsenter', [`--net=${d.host.path}`, this.opts.bin], {
      input: JSON.stringify(conf),
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: name,
        CNI_NETNS: ns.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/usr/lib/cni',
      },
    });
    if (r.status !== 0) throw new Error(`CNI ADD for ${name} on host ${n} failed: ${r.stdout}${r.stderr}`);
    const ips = (JSON.parse(r.stdout) as { ips: Array<{ address: string }> }).ips.map((i) => i.address.split('/')[0]!);
    return { ns, ip: byFamily(ips)[4] ?? ips[0]!, ip6: byFamily(ips)[6], host: n };
  }

  /** Lets go of a detached cluster, leaving it running: closes the etcd client and namespace handles. */
  release(): void {
    this.etcd.release();
    this.sim.release();
  }

  destroy(): void {
    for (const d of this.daemons) d?.kill();
    this.etcd.close();
    this.sim.destroy();
  }
}
