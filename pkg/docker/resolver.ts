/**
 * The resolver Docker containers reach: weft's DNS server on one link-local address on every host, as
 * NodeLocal DNSCache does for Kubernetes. Docker's embedded DNS (127.0.0.11 in every container) answers the
 * names it knows (containers of this host) and forwards the rest to dockerd's `dns` servers, from inside the
 * container; with `dns` set to this address, names of other hosts' containers are answered here and the rest
 * goes on to the host's resolvers. One address for every host and network because dockerd has one `dns`
 * list; the asker's address tells which networks' names it may see. The address is a /32 on `lo`: a host
 * accepts its addresses on any interface, and kernels without the dummy driver (this project's test
 * machines) have no other place for it.
 *
 * Being on `lo`, the address answers on every interface, the underlay's included: a neighbour that routes
 * 169.254.53.53 to this host reached an open resolver (issue 25). It answers only this host now, its
 * addresses and the containers behind its bridges (pkg/dns/askers.ts); what the host has is read again on
 * every `ensure`, and again when an asker it does not know yet asks (at most once per RESCOPE_MS): a container
 * on a bridge made since the last pass asks as soon as it starts, and a REFUSED then was a failed lookup
 * (test/docker/seed.test.ts failed so on a loaded host).
 */
import { DnsServer, EMPTY_SCOPE, hostResolvers, isLocalAsker, localScope, type DirectoryEntry, type LocalScope } from '../dns/mod.ts';
import { messageOf } from '../errors/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';

/** How often an unknown asker may make the resolver read the host's links and addresses again. */
const RESCOPE_MS = 500;

export class LinkLocalResolver {
  readonly address: string;
  readonly #nl: Netlink;
  readonly #log: Logger;
  readonly #directory: () => DirectoryEntry[];
  readonly #subnets: () => string[];
  #server: DnsServer | undefined;
  #scope: LocalScope = EMPTY_SCOPE;
  #rescoped = 0;
  #rescoping: Promise<void> | undefined;

  constructor(o: { address: string; nl: Netlink; log: Logger; directory: () => DirectoryEntry[]; subnets: () => string[] }) {
    this.address = o.address;
    this.#nl = o.nl;
    this.#log = o.log;
    this.#directory = o.directory;
    this.#subnets = o.subnets;
  }

  /** Puts (or puts back) the address and the server; cheap when both are in place. */
  async ensure(): Promise<void> {
    await this.#rescope();
    const lo = await this.#nl.getLink('lo');
    let repaired = false;
    const cidr = `${this.address}/32`;
    if (!(await this.#nl.listAddrs({ index: lo.index, family: 4 })).some((a) => a.cidr === cidr)) {
      await this.#nl.addAddr({ index: lo.index, cidr });
      repaired = this.#server !== undefined;
    }
    if (!lo.up) await this.#nl.setUp(lo.index);
    if (this.#server && !this.#server.closed && !repaired) return;
    this.#server?.close();
    const server = new DnsServer({
      address: this.address,
      network: '',
      log: this.#log,
      directory: this.#directory,
      subnets: this.#subnets,
      upstreams: () => hostResolvers(new Set([this.address])),
      admits: (ip) => this.#admits(ip),
    });
    try {
      await server.start();
      this.#server = server;
      this.#log.info('DNS for Docker containers listening', { address: `${this.address}:53` });
    } catch (e) {
      server.close();
      this.#server = undefined;
      this.#log.error(`cannot serve DNS for Docker on ${this.address}:53: ${messageOf(e)}; trying again`);
    }
  }

  close(): void {
    this.#server?.close();
  }

  async #admits(ip: string): Promise<boolean> {
    if (isLocalAsker(this.#scope, ip)) return true;
    if (Date.now() - this.#rescoped < RESCOPE_MS) return false;
    await this.#rescope().catch((e: unknown) => this.#log.warn(`DNS for Docker: cannot read this host's links: ${messageOf(e)}`));
    return isLocalAsker(this.#scope, ip);
  }

  /** Reads the host's links and addresses again; askers arriving meanwhile share the one read. */
  #rescope(): Promise<void> {
    this.#rescoping ??= (async () => {
      try {
        this.#scope = localScope(await this.#nl.listLinks(), await this.#nl.listAddrs());
      } finally {
        this.#rescoped = Date.now();
        this.#rescoping = undefined;
      }
    })();
    return this.#rescoping;
  }
}
