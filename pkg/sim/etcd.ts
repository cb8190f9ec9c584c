/**
 * A real etcd (Debian's etcd-server) for a simulated cluster: one member, or several forming one cluster,
 * each in its own namespace on the underlay at 192.0.2.250, .251, ... port 2379, where daemons reach it like
 * real hosts do, and on a Unix socket in its directory (plain, for administration), where a process outside
 * the simulated network (a test, the lab's CLI) reaches it. With `tls`, the underlay listeners speak HTTPS
 * with the given server certificate, and with `clientCertAuth` require a client certificate signed by the CA.
 * Members can be killed, frozen (SIGSTOP) and restarted from their data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from '../store/mod.ts';
import type { CertFiles } from './pki.ts';
import type { Sim, SimHost } from './topology.ts';
import { waitFor } from './wait.ts';

export const ETCD_HOST = 250;

export interface SimEtcdTls {
  readonly ca: string;
  /** Must name every member's address (IP:192.0.2.250, ...). */
  readonly server: CertFiles;
  readonly clientCertAuth: boolean;
}

export interface SimEtcdOptions {
  /** etcd outlives this process (the lab). */
  readonly detach?: boolean;
  /** How many members (default 1), on hosts firstHost, firstHost + 1, ... */
  readonly members?: number;
  readonly firstHost?: number;
  readonly tls?: SimEtcdTls;
}

export class SimEtcdMember {
  readonly host: SimHost;
  readonly dir: string;
  readonly name: string;
  readonly endpoint: string;
  readonly socketEndpoint: string;
  readonly #flags: readonly string[];
  readonly #detach: boolean;
  #proc: ChildProcess | undefined;

  constructor(host: SimHost, dir: string, opts: { initialCluster: string; tls: SimEtcdTls | undefined; detach: boolean }) {
    this.host = host;
    this.dir = dir;
    this.name = `m${host.n}`;
    this.#detach = opts.detach;
    const scheme = opts.tls ? 'https' : 'http';
    this.endpoint = `${scheme}://${host.ip}:2379`;
    this.socketEndpoint = `unix:${join(dir, 'etcd.sock:1')}`;
    const t = opts.tls;
    this.#flags = [
      '--name',
      this.name,
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      `${this.endpoint},unix://etcd.sock:1`,
      '--advertise-client-urls',
      this.endpoint,
      '--listen-peer-urls',
      `http://${host.ip}:2380`,
      '--initial-advertise-peer-urls',
      `http://${host.ip}:2380`,
      '--initial-cluster',
      opts.initialCluster,
      '--log-level',
      'warn',
      '--quota-backend-bytes',
      String(2 ** 31),
      // etcd asks for client certificates whenever it has a trusted CA file, so that goes with client-cert auth.
      ...(t
        ? [
            '--cert-file',
            t.server.cert,
            '--key-file',
            t.server.key,
            ...(t.clientCertAuth ? ['--trusted-ca-file', t.ca, '--client-cert-auth'] : []),
          ]
        : []),
    ];
    mkdirSync(dir, { recursive: true });
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get running(): boolean {
    return this.#proc !== undefined;
  }

  start(): void {
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    this.#proc = spawn('nsenter', [`--net=${this.host.path}`, 'etcd', ...this.#flags], {
      cwd: this.dir,
      stdio: ['ignore', log, log],
      detached: this.#detach,
    });
    if (this.#detach) this.#proc.unref();
  }

  kill(): void {
    this.#proc?.kill('SIGCONT');
    this.#proc?.kill('SIGKILL');
    this.#proc = undefined;
    rmSync(join(this.dir, 'etcd.sock:1'), { force: true });
  }

  /** SIGSTOP: the member keeps its sockets but answers nothing (a hung process, or a host that froze). */
  freeze(): void {
    this.#proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#proc?.kill('SIGCONT');
  }

  forget(): void {
    this.#proc = undefined;
  }
}

export class SimEtcd {
  readonly dir: string;
  readonly members: SimEtcdMember[];
  readonly tls: SimEtcdTls | undefined;
  /** Every member's Unix socket: the client moves to another member when one is down. */
  readonly client: EtcdClient;

  private constructor(dir: string, members: SimEtcdMember[], tls: SimEtcdTls | undefined) {
    this.dir = dir;
    this.members = members;
    this.tls = tls;
    this.client = new EtcdClient({ endpoints: members.map((m) => m.socketEndpoint), callTimeoutMs: 2000 });
  }

  /** Adds the members' hosts to `sim` and starts etcd with its data under `dir`. */
  static async start(sim: Sim, dir: string, opts: SimEtcdOptions = {}): Promise<SimEtcd> {
    mkdirSync(dir, { recursive: true });
    const first = opts.firstHost ?? ETCD_HOST;
    const count = opts.members ?? 1;
    const hosts: SimHost[] = [];
    for (let i = 0; i < count; i++) hosts.push(await sim.addHost(first + i));
    const initialCluster = hosts.map((h) => `m${h.n}=http://${h.ip}:2380`).join(',');
    // One member keeps the layout earlier runs (and the lab's state) used: its files directly in `dir`.
    const members = hosts.map(
      (h) =>
        new SimEtcdMember(h, count === 1 ? dir : join(dir, `m${h.n}`), { initialCluster, tls: opts.tls, detach: opts.detach ?? false }),
    );
    const e = new SimEtcd(dir, members, opts.tls);
    await e.restart();
    return e;
  }

  /** The first member's host. */
  get host(): SimHost {
    return this.members[0]!.host;
  }

  /** Every member's client URL, comma-separated as --etcd-endpoints takes them. */
  get endpoint(): string {
    return this.members.map((m) => m.endpoint).join(',');
  }

  get socketEndpoint(): string {
    return this.members[0]!.socketEndpoint;
  }

  get pid(): number | undefined {
    return this.members[0]!.pid;
  }

  /** Starts every member that is not running, and waits until each answers. */
  async restart(): Promise<void> {
    const starting = this.members.filter((m) => !m.running);
    for (const m of starting) m.start();
    await Promise.all(starting.map((m) => this.#serving(m)));
  }

  async startMember(i: number): Promise<void> {
    const m = this.members[i]!;
    if (!m.running) m.start();
    await this.#serving(m);
  }

  async #serving(m: SimEtcdMember): Promise<void> {
    const probe = new EtcdClient({ endpoints: [m.socketEndpoint], callTimeoutMs: 2000 });
    try {
      await waitFor(
        `etcd ${m.name} to serve (log: ${join(m.dir, 'etcd.log')})`,
        async () => {
          if (!existsSync(join(m.dir, 'etcd.sock:1'))) return false;
          await probe.get('/weft-sim/ping');
          return true;
        },
        20_000,
        100,
      );
    } finally {
      probe.close();
    }
  }

  kill(): void {
    for (const m of this.members) m.kill();
  }

  /** Stops etcd and closes the client. */
  close(): void {
    this.client.close();
    this.kill();
  }

  /** Closes the client and leaves etcd running (the lab's `up` hands it over to later commands). */
  release(): void {
    this.client.close();
    for (const m of this.members) m.forget();
  }

  /** Compacts history up to now; returns the revision. */
  async compact(): Promise<string> {
    const rev = (await this.client.getPrefix('/weft-sim/ping')).revision;
    await this.client.compact(rev);
    return rev;
  }

  /** The index of the member that is raft leader now. */
  async leader(): Promise<number> {
    for (const [i, m] of this.members.entries()) {
      if (!m.running) continue;
      const c = new EtcdClient({ endpoints: [m.socketEndpoint], callTimeoutMs: 2000 });
      try {
        const s = await c.status();
        if (s.leader === s.memberId) return i;
      } catch {
        // a member that does not answer is not the leader we can use
      } finally {
        c.close();
      }
    }
    throw new Error('no etcd member says it is the leader');
  }
}
