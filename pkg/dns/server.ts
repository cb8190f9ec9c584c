/**
 * A network's DNS server on one host: UDP and TCP on the network's bridge address, port 53 (the address
 * containers have as their gateway and, through the CNI result, as their nameserver). Answers names and
 * reverse lookups from the directory; forwards the rest to the host's resolvers and relays their answer;
 * never lets a bad packet stop it.
 *
 * Since issue 25 it is not an open resolver: it answers only the askers `admits` lets in (by default the
 * endpoints of its network; askers.ts says why) and REFUSES the rest without forwarding; it forwards at most
 * MAX_FORWARDS questions at once (SERVFAIL beyond: a resolver then tries its next server) so a flood
 * cannot turn into as many sockets towards the host's resolvers; and no UDP answer it sends is larger than
 * MAX_UDP_ANSWER (message.ts), whatever an upstream returned.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log/logger.ts';
import { messageOf } from '../errors/mod.ts';
import { isEndpointOf } from './askers.ts';
import { resolve as decide, resolvePtr, reverseAddress, type DirectoryEntry } from './directory.ts';
import { forward, frame, readFramed } from './forward.ts';
import { buildResponse, fitUdp, MAX_UDP_ANSWER, parseQuery, RCODE, type Query } from './message.ts';
import { familyOf } from '../netaddr/family.ts';

const TTL = 10;
/** A TCP client that sends nothing for this long is dropped. */
const TCP_IDLE_MS = 10_000;
/**
 * Questions being forwarded at once, per server. Each holds a socket towards an upstream for up to 2 s
 * (forward.ts), so this bounds the sockets and the load one network's containers can put on the host's
 * resolvers; 64 at once at a few milliseconds per answer is thousands of lookups a second, far beyond
 * what a host's containers make.
 */
export const MAX_FORWARDS = 64;
/** TCP connections at once, per server (each idles out after TCP_IDLE_MS). */
const MAX_TCP_CONNECTIONS = 256;

/** The host's resolvers from /etc/resolv.conf, minus addresses that are weft's own servers. */
export function hostResolvers(exclude: ReadonlySet<string>, path = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && !exclude.has(x) && familyOf(x) === 4)
      .slice(0, 3);
  } catch {
    return [];
  }
}

/** How a query was answered: from the directory, NXDOMAIN, relayed from upstream, SERVFAIL, or REFUSED (not an asker it serves). */
export type DnsAnswer = 'local' | 'nxdomain' | 'forwarded' | 'failed' | 'refused';

export class DnsServer {
  readonly address: string;
  readonly network: string;
  readonly #udp: Socket;
  readonly #tcp: Server;
  readonly #directory: () => readonly DirectoryEntry[];
  readonly #subnets: () => readonly string[];
  readonly #upstreams: () => readonly string[];
  readonly #log: Logger;
  readonly #admits: (askerIP: string) => boolean | Promise<boolean>;
  readonly #upstreamPort: number;
  #forwarding = 0;
  #closed = false;
  readonly #onQueryDone: ((answer: DnsAnswer) => void) | undefined;

  constructor(opts: {
    address: string;
    network: string;
    directory: () => readonly DirectoryEntry[];
    /** The ranges of every weft network this host knows: reverse lookups inside them are answered here. */
    subnets?: () => readonly string[];
    upstreams: () => readonly string[];
    log: Logger;
    /** Told how each query was answered, for the metrics. */
    onQuery?: (answer: DnsAnswer) => void;
    /**
     * Whom it answers at all (others get REFUSED); by default the endpoints of `network` in the directory.
     * May look again before it says no (the link-local resolver re-reads the host's bridges).
     */
    admits?: (askerIP: string) => boolean | Promise<boolean>;
    /** The upstreams' port (53; tests run one elsewhere). */
    upstreamPort?: number;
  }) {
    this.#onQueryDone = opts.onQuery;
    this.address = opts.address;
    this.network = opts.network;
    this.#directory = opts.directory;
    this.#subnets = opts.subnets ?? (() => []);
    this.#upstreams = opts.upstreams;
    this.#log = opts.log;
    this.#upstreamPort = opts.upstreamPort ?? 53;
    this.#admits = opts.admits ?? ((ip) => isEndpointOf(this.#directory(), this.network, ip));
    this.#udp = createSocket(familyOf(opts.address) === 6 ? 'udp6' : 'udp4');

    this.#udp.on('message', (msg, rinfo) => {
      void this.#safeAnswer(msg, rinfo.address, 'udp').then((b) => {
        if (!b || this.#closed) return;
        try {
          this.#udp.send(b, rinfo.port, rinfo.address);
        } catch {
          // closed while this query was forwarded: nothing to answer on, and this must not throw
        }
      });
    });
    this.#udp.on('error', (e) => this.#log.warn(`DNS server on ${this.address}: ${messageOf(e)}`));
    this.#udp.on('close', () => (this.#closed = true));
    this.#tcp = createServer((conn) => {
      conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
      conn.on('error', () => conn.destroy());
      readFramed(conn, (msg) => {
        void this.#safeAnswer(msg, conn.remoteAddress ?? '', 'tcp').then((b) => {
          if (b && conn.writable) conn.write(frame(b));
        });
      });
    });
    this.#tcp.maxConnections = MAX_TCP_CONNECTIONS;
    this.#tcp.on('error', (e) => this.#log.warn(`DNS server (TCP) on ${this.address}: ${messageOf(e)}`));
    this.#tcp.on('close', () => (this.#closed = true));
  }

  /** Whether a socket has closed (by close(), or because it failed): the owner starts a new server. */
  get closed(): boolean {
    return this.#closed;
  }

  async start(port = 53): Promise<void> {
    await new Promise<void>((res, rej) => {
      this.#udp.once('error', rej);
      this.#udp.bind(port, this.address, () => {
        this.#udp.off('error', rej);
        res();
      });
    });
    await new Promise<void>((res, rej) => {
      this.#tcp.once('error', rej);
      this.#tcp.listen(port, this.address, () => {
        this.#tcp.off('error', rej);
        res();
      });
    }).catch((e: unknown) => {
      this.close();
      throw e;
    });
  }

  close(): void {
    try {
      this.#udp.close();
    } catch {
      // already closed
    }
    this.#tcp.close();
  }

  /** #answer, never rejecting: a failure is logged and the asker gets SERVFAIL (or nothing, if unreadable). */
  async #safeAnswer(msg: Buffer, from: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    try {
      const b = await this.#answer(q, msg, from, transport);
      return transport === 'udp' ? fitUdp(q, b) : b;
    } catch (e) {
      this.#log.warn(`DNS server on ${this.address}: ${messageOf(e)}`);
      this.#onQueryDone?.('failed');
      return buildResponse(q, { rcode: RCODE.SERVFAIL });
    }
  }

  /** The answer to query `q` (the message `msg`) from `from`. */
  async #answer(q: Query, msg: Buffer, from: string, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const local = (kind: DnsAnswer, b: Buffer) => {
      this.#onQueryDone?.(kind);
      return b;
    };
    if (!(await this.#admits(from))) return local('refused', buildResponse(q, { rcode: RCODE.REFUSED }));
    const ptrOf = q.question.type === 'PTR' ? reverseAddress(q.name) : undefined;
    const d =
      ptrOf !== undefined
        ? resolvePtr(this.#directory(), ptrOf, from, this.#subnets())
        : decide(this.#directory(), q.name, from, this.network);
    if (d.kind === 'answer') {
      const t = q.question.type as string;
      const ips = 'ips' in d && (t === 'A' || t === 'ANY') ? d.ips : [];
      const ips6 = 'ips' in d && (t === 'AAAA' || t === 'ANY') ? (d.ips6 ?? []) : [];
      return local('local', buildResponse(q, { ips, ips6, names: 'names' in d ? d.names : [], ttl: TTL }));
    }
    if (d.kind === 'nxdomain') return local('nxdomain', buildResponse(q, { rcode: RCODE.NXDOMAIN }));
    if (this.#forwarding >= MAX_FORWARDS) return local('failed', buildResponse(q, { rcode: RCODE.SERVFAIL }));
    this.#forwarding++;
    try {
      const size = transport === 'udp' ? Math.min(q.udpSize, MAX_UDP_ANSWER) : undefined;
      const answer = await forward(msg, this.#upstreams(), size, this.#upstreamPort);
      this.#onQueryDone?.(answer ? 'forwarded' : 'failed');
      return answer ?? buildResponse(q, { rcode: RCODE.SERVFAIL });
    } finally {
      this.#forwarding--;
    }
  }
}
