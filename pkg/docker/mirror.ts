/**
 * Every weft network is a network of this host's Docker, as on the old KV-store overlay where one `docker
 * network create` showed on every engine: the mirror compares weft's networks with Docker's list (planMirror,
 * pure) and creates or removes Docker networks of driver weft to match. It runs when weft's networks change
 * and every few seconds (Docker's list can change behind its back: `docker network rm`).
 */
import { messageOf } from '../errors/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { NetworkMeta } from '../networks/mod.ts';
import type { DockerEngine, DockerNetwork } from './engine.ts';
import { familyOf } from '../netaddr/family.ts';

export type MirrorAction =
  | {
      readonly kind: 'create';
      readonly name: string;
      readonly subnet: string;
      readonly subnet6?: string;
      readonly options: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'remove'; readonly id: string; readonly name: string }
  | { readonly kind: 'clash'; readonly name: string; readonly reason: string };

const subnetOf = (d: DockerNetwork): string | undefined => d.IPAM?.Config?.[0]?.Subnet;

/** What to change in Docker so its weft networks are weft's; `adopting`: Docker networks not in etcd yet. */
export function planMirror(weft: readonly NetworkMeta[], docker: readonly DockerNetwork[], adopting: ReadonlySet<string>): MirrorAction[] {
  const out: MirrorAction[] = [];
  // Docker always wants an IPv4 pool: an IPv6-only weft network cannot be a Docker network.
  for (const m of weft.filter((x) => familyOf(x.Subnet) === 4)) {
    const d = docker.find((x) => x.Name === m.Name);
    if (!d) {
      const options: Record<string, string> = { vni: String(m.VNI) };
      if (m.MTU !== undefined) options.mtu = String(m.MTU);
      out.push({ kind: 'create', name: m.Name, subnet: m.Subnet, ...(m.SubnetV6 && { subnet6: m.SubnetV6 }), options });
    } else if (d.Driver !== 'weft')
      out.push({ kind: 'clash', name: m.Name, reason: `a Docker network of driver ${d.Driver} has the name; rename or remove it` });
    else if (subnetOf(d) !== m.Subnet)
      out.push({ kind: 'clash', name: m.Name, reason: `Docker's network has subnet ${subnetOf(d) ?? 'none'}, weft's ${m.Subnet}` });
  }
  for (const d of docker)
    if (d.Driver === 'weft' && !adopting.has(d.Id) && !weft.some((m) => m.Name === d.Name))
      out.push({ kind: 'remove', id: d.Id, name: d.Name });
  return out;
}

export interface MirrorTarget {
  readonly expected: Map<string, string>;
  dockerSilent: boolean;
  readonly removing: Set<string>;
  readonly adopting: ReadonlySet<string>;
}

export class Mirror {
  readonly #engine: DockerEngine;
  readonly #weft: () => readonly NetworkMeta[];
  readonly #plugin: MirrorTarget;
  readonly #log: Logger;
  #running: Promise<void> | undefined;
  #again = false;
  /** What was last logged per network, so a lasting problem is said once, not every pass. */
  readonly #said = new Map<string, string>();
  /** How the last passes went, for `weft status`. */
  lastOkAt: string | undefined;
  error: string | undefined;
  networks: readonly string[] = [];

  constructor(deps: { engine: DockerEngine; weft: () => readonly NetworkMeta[]; plugin: MirrorTarget; log: Logger }) {
    this.#engine = deps.engine;
    this.#weft = deps.weft;
    this.#plugin = deps.plugin;
    this.#log = deps.log;
  }

  /** One pass now, or right after the running one (passes never overlap). */
  sync(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#pass()
      .catch((e: unknown) => {
        this.error = messageOf(e);
        this.#once('docker', 'warn', `cannot mirror weft networks into Docker: ${messageOf(e)}`);
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          void this.sync();
        }
      });
    return this.#running;
  }

  #once(key: string, level: 'warn' | 'error' | 'info', msg: string): void {
    if (this.#said.get(key) === msg) return;
    this.#said.set(key, msg);
    this.#log[level](msg);
  }

  async #pass(): Promise<void> {
    const docker = await this.#engine.networks();
    this.#plugin.dockerSilent = false;
    this.lastOkAt = new Date().toISOString();
    this.error = undefined;
    this.networks = docker.filter((d) => d.Driver === 'weft').map((d) => d.Name);
    const actions = planMirror(this.#weft(), docker, this.#plugin.adopting);
    this.#said.delete('docker');
    for (const a of actions) {
      try {
        if (a.kind === 'clash') this.#once(a.name, 'warn', `weft network ${a.name} is not in Docker: ${a.reason}`);
        else if (a.kind === 'create') await this.#create(a);
        else await this.#remove(a.id, a.name);
      } catch (e) {
        this.#once(a.name, 'warn', `cannot ${a.kind} Docker network ${a.name}: ${messageOf(e)}`);
      }
    }
  }

  async #create(a: Extract<MirrorAction, { kind: 'create' }>): Promise<void> {
    this.#plugin.expected.set(a.subnet, a.name);
    try {
      const id = await this.#engine.createNetwork(a);
      this.#said.delete(a.name);
      this.#log.info('weft network added to Docker', { network: a.name, docker: id.slice(0, 12) });
    } finally {
      this.#plugin.expected.delete(a.subnet);
    }
  }

  async #remove(id: string, name: string): Promise<void> {
    this.#plugin.removing.add(id);
    try {
      await this.#engine.removeNetwork(id);
      this.#said.delete(name);
      this.#log.info('weft network removed from Docker', { network: name, docker: id.slice(0, 12) });
    } finally {
      this.#plugin.removing.delete(id);
    }
  }
}
