/**
 * One named network on this host, from the moment it appeared: its agent, and what the daemon serves beside it
 * once the agent serves, the conflist runtimes read and the DNS servers on its gateway addresses, each put
 * back (and counted as a repair) when it went missing.
 */
import { containsIP, parseAddr, parsePrefix } from '../netaddr/cidr.ts';
import type { NetworkAgent, Served } from '../agent/mod.ts';
import { DnsServer, hostResolvers, isEndpointOf, type DirectoryEntry } from '../dns/mod.ts';
import { messageOf } from '../errors/mod.ts';
import { readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';
import type { Logger } from '../log/logger.ts';
import { conflistFileName, type NetworkMeta } from '../networks/mod.ts';
import type { DaemonMetrics } from './metrics.ts';
import { familyOf } from '../netaddr/family.ts';

/** What the manager uses of a network's agent (NetworkAgent; unit tests give a stand-in without a kernel). */
export type ManagedAgent = Pick<
  NetworkAgent,
  'start' | 'stop' | 'signal' | 'served' | 'report' | 'status' | 'vxlanSource' | 'onKernelEvent'
>;

/** What a network's services need of the manager: every network's names, addresses and subnets. */
export interface ServicesContext {
  readonly cniConfDir: string | undefined;
  readonly dns: boolean;
  readonly log: Logger;
  readonly metrics: DaemonMetrics | undefined;
  readonly conflist: (meta: NetworkMeta) => Record<string, unknown>;
  /** Every endpoint of every named network. */
  readonly directory: () => DirectoryEntry[];
  /** Every named network's subnets. */
  readonly subnets: () => string[];
  /** Every gateway address of the named networks this host serves (not upstream resolvers). */
  readonly gateways: () => Set<string>;
}

export class RunningNetwork {
  readonly meta: NetworkMeta;
  readonly agent: ManagedAgent;
  readonly #ctx: ServicesContext;
  #dns: DnsServer | undefined;
  #dns6: DnsServer | undefined;

  constructor(meta: NetworkMeta, agent: ManagedAgent, ctx: ServicesContext) {
    this.meta = meta;
    this.agent = agent;
    this.#ctx = ctx;
  }

  /** The network's conflist for runtimes, written again if it went missing or was changed. */
  keepConflist(): void {
    if (!this.#ctx.cniConfDir) return;
    const path = conflistFileName(this.#ctx.cniConfDir, this.meta.Name);
    const text = `${JSON.stringify(this.#ctx.conflist(this.meta), null, 2)}\n`;
    const now = readIfExists(path);
    if (now === text) return;
    writeFileAtomic(path, text, 0o644);
    if (this.#dns !== undefined || now !== undefined) {
      this.#ctx.metrics?.repair(this.meta.Name, 'conflist');
      this.#ctx.log.warn(`the conflist ${path} was ${now === undefined ? 'missing' : 'changed'}; wrote it again`, {
        network: this.meta.Name,
      });
    }
  }

  /**
   * The network's DNS servers on its gateway addresses (IPv4, and IPv6 on a dual-stack network): started once
   * the agent serves, again if one failed or died.
   */
  async keepDns(): Promise<void> {
    const served = this.agent.served();
    if (!this.#ctx.dns || !served) return;
    this.#dns = await this.#keepDnsOn(this.#dns, served.gateway);
    if (served.gateway6) this.#dns6 = await this.#keepDnsOn(this.#dns6, served.gateway6);
  }

  async #keepDnsOn(running: DnsServer | undefined, address: string): Promise<DnsServer | undefined> {
    if (running && !running.closed) return running;
    const name = this.meta.Name;
    const log = this.#ctx.log.child({ network: name });
    const restart = running !== undefined;
    const at = familyOf(address) === 6 ? `[${address}]:53` : `${address}:53`;
    const dns = new DnsServer({
      address,
      network: name,
      log,
      onQuery: (answer) => this.#ctx.metrics?.dnsQuery(name, answer),
      directory: () => this.#ctx.directory(),
      // Endpoints of the network, and this host's own containers on it before the directory knows them (etcd
      // unreachable at start): they sit behind this host's bridge, in its subnets of the network.
      admits: (ip) => isEndpointOf(this.#ctx.directory(), name, ip) || inSubnets(this.agent.served(), ip),
      subnets: () => this.#ctx.subnets(),
      upstreams: () => hostResolvers(this.#ctx.gateways()),
    });
    try {
      await dns.start();
      if (restart) {
        log.warn(`the DNS server on ${at} had stopped; started it again`);
        this.#ctx.metrics?.repair(name, 'dns');
      } else log.info('DNS for container names listening', { address: at });
      return dns;
    } catch (e) {
      dns.close();
      log.error(`cannot serve DNS on ${at}: ${messageOf(e)}; trying again every resync period`);
      return running;
    }
  }

  /** Stops serving: the DNS servers close; `teardown` also removes the conflist and the agent's kernel state and lease. */
  async stop(o: { teardown?: boolean } = {}): Promise<void> {
    this.#dns?.close();
    this.#dns6?.close();
    if (o.teardown) {
      if (this.#ctx.cniConfDir) removeIfExists(conflistFileName(this.#ctx.cniConfDir, this.meta.Name));
      await this.agent.stop({ teardown: true });
    } else await this.agent.stop();
  }
}

/** Whether `ip` is in this host's subnets of a network it serves. */
function inSubnets(served: Served | undefined, ip: string): boolean {
  const a = parseAddr(ip);
  return (
    !!served &&
    !!a &&
    [served.subnet, served.subnet6].some((s) => {
      const p = s === undefined ? undefined : parsePrefix(s);
      return !!p?.ok && containsIP(p.value, a.family, a.ip);
    })
  );
}
