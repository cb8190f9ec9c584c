/**
 * A network's DNS server on one host: UDP on the network's bridge address, port 53 (the address containers
 * have as their gateway and, through the CNI result, as their nameserver). Answers from the directory;
 * forwards other names to the host's resolvers and relays their answer; never lets a bad packet stop it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log/logger.ts';
import { messageOf } from '../errors/mod.ts';
import { resolve as decide, type DirectoryEntry } from './directory.ts';
import { buildResponse, parseQuery, RCODE, TYPE } from './message.ts';

const FORWARD_TIMEOUT_MS = 2000;
const TTL = 10;

/** The host's resolvers from /etc/resolv.conf, minus addresses that are weft's own servers. */
export function hostResolvers(exclude: ReadonlySet<string>, path = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && !exclude.has(x) && !x.includes(':'))
      .slice(0, 3);
  } catch {
    return [];
  }
}

/** How a query was answered: from the directory, NXDOMAIN, relayed from upstream, or SERVFAIL. */
export type DnsAnswer = 'local' | 'nxdomain' | 'forwarded' | 'failed';

export class DnsServer {
  readonly address: string;
  readonly network: string;
  readonly #socket: Socket;
  readonly #directory: () => readonly DirectoryEntry[];
  readonly #upstreams: () => readonly string[];
  readonly #log: Logger;
  #closed = false;
  readonly #onQueryDone: ((answer: DnsAnswer) => void) | undefined;

  constructor(opts: {
    address: string;
    network: string;
    directory: () => readonly DirectoryEntry[];
    upstreams: () => readonly string[];
    log: Logger;
    /** Told how each query was answered, for the metrics. */
    onQuery?: (answer: DnsAnswer) => void;
  }) {
    this.#onQueryDone = opts.onQuery;
    this.address = opts.address;
    this.network = opts.network;
    this.#directory = opts.directory;
    this.#upstreams = opts.upstreams;
    this.#log = opts.log;
    this.#socket = createSocket('udp4');
    this.#socket.on('message', (msg, rinfo) => void this.#onQuery(msg, rinfo.address, rinfo.port));
    this.#socket.on('error', (e) => this.#log.warn(`DNS server on ${this.address}: ${messageOf(e)}`));
    this.#socket.on('close', () => (this.#closed = true));
  }

  /** Whether the socket has closed (by close(), or because it failed): the owner starts a new server. */
  get closed(): boolean {
    return this.#closed;
  }

  start(port = 53): Promise<void> {
    return new Promise((res, rej) => {
      this.#socket.once('error', rej);
      this.#socket.bind(port, this.address, () => {
        this.#socket.off('error', rej);
        res();
      });
    });
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }

  async #onQuery(msg: Buffer, from: string, port: number): Promise<void> {
    const q = parseQuery(msg);
    if (!q) return;
    const reply = (b: Buffer) => this.#socket.send(b, port, from);
    const d = decide(this.#directory(), q.question.name, from, this.network);
    if (d.kind === 'answer') {
      this.#onQueryDone?.('local');
      return reply(buildResponse(q, { ips: q.question.type === TYPE.A || q.question.type === TYPE.ANY ? d.ips : [], ttl: TTL }));
    }
    if (d.kind === 'nxdomain') {
      this.#onQueryDone?.('nxdomain');
      return reply(buildResponse(q, { rcode: RCODE.NXDOMAIN }));
    }
    const answer = await this.#forward(msg);
    this.#onQueryDone?.(answer ? 'forwarded' : 'failed');
    reply(answer ?? buildResponse(q, { rcode: RCODE.SERVFAIL }));
  }

  async #forward(msg: Buffer): Promise<Buffer | undefined> {
    for (const upstream of this.#upstreams()) {
      const answer = await new Promise<Buffer | undefined>((res) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
        const done = (b: Buffer | undefined) => {
          clearTimeout(timer);
          s.close();
          res(b);
        };
        s.on('message', (b) => done(b));
        s.on('error', () => done(undefined));
        s.send(msg, 53, upstream);
      });
      if (answer) return answer;
    }
    return undefined;
  }
}
