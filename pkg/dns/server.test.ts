/**
 * DnsServer on loopback (issue 25): it answers and forwards for endpoints of its network only, caps the
 * questions it forwards at once, and never sends a UDP answer larger than MAX_UDP_ANSWER. The asker is told
 * apart by its source address: 127.0.0.1 is an endpoint of RED here, 127.0.0.2 is not.
 */
import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import type { DirectoryEntry } from './directory.ts';
import { answersOf, buildQuery, isTruncated, MAX_UDP_ANSWER, RCODE } from './message.ts';
import { DnsServer, MAX_FORWARDS } from './server.ts';

const dir: DirectoryEntry[] = [{ network: 'RED', name: 'web1', aliases: [], containerID: 'c1', address: '127.0.0.1' }];
const bigIps = Array.from({ length: 150 }, (_, i) => `198.51.100.${i + 1}`);

// The upstream: answers every name with one A record, `big.example` with 150 (about 2.5 KB, not truncated:
// an upstream may return what it likes over UDP), and never answers `slow.*`. It counts what it was asked.
const upstream = createSocket('udp4');
const asked: string[] = [];
let upstreamPort = 0;
let dnsPort = 0;
let server: DnsServer;

const freePort = async (): Promise<number> => {
  const s = createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
  const { port } = s.address();
  s.close();
  return port;
};

beforeAll(async () => {
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const name = q.questions![0]!.name;
    asked.push(name);
    if (name.startsWith('slow.')) return;
    const ips = name === 'big.example' ? bigIps : ['198.51.100.7'];
    const answers = ips.map((data) => ({ type: 'A' as const, class: 'IN' as const, name, ttl: 5, data }));
    upstream.send(dnsPacket.encode({ id: q.id, type: 'response', questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((ok) => upstream.bind(0, '127.0.0.1', ok));
  upstreamPort = upstream.address().port;
  dnsPort = await freePort();
  server = new DnsServer({
    address: '127.0.0.1',
    network: 'RED',
    directory: () => dir,
    upstreams: () => ['127.0.0.1'],
    upstreamPort,
    log: createLogger({ write: () => {} }),
  });
  await server.start(dnsPort);
});
afterAll(() => {
  server.close();
  upstream.close();
});

/** Sends `queries` from `from`, and collects the answers that arrive within `ms`. */
async function ask(from: string, queries: Buffer[], ms = 1500): Promise<Buffer[]> {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, from, ok));
  const got: Buffer[] = [];
  s.on('message', (b) => got.push(b));
  for (const q of queries) s.send(q, dnsPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, ms));
  s.close();
  return got;
}

const withEdns = (id: number, name: string, size: number) =>
  dnsPacket.encode({
    id,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', class: 'IN', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size } as never],
  });

describe('DnsServer answers its own network only', () => {
  it('REFUSES an asker that is no endpoint of the network, for names and forwards alike, asking no upstream', async () => {
    asked.length = 0;
    const got = await ask('127.0.0.2', [buildQuery(1, 'web1'), buildQuery(2, 'example.com')], 500);
    expect(got.map((b) => answersOf(b))).toEqual([
      { rcode: RCODE.REFUSED, ips: [], names: [] },
      { rcode: RCODE.REFUSED, ips: [], names: [] },
    ]);
    expect(asked).toEqual([]);
  });

  it("answers an endpoint's names from the directory and forwards the rest", async () => {
    const got = await ask('127.0.0.1', [buildQuery(1, 'web1'), buildQuery(2, 'example.com')], 500);
    const byId = new Map(got.map((b) => [b.readUInt16BE(0), answersOf(b)]));
    expect(byId.get(1)).toEqual({ rcode: 0, ips: ['127.0.0.1'], names: [] });
    expect(byId.get(2)).toEqual({ rcode: 0, ips: ['198.51.100.7'], names: [] });
  });

  it('relays no UDP answer over MAX_UDP_ANSWER, even to a client offering more: it gets TC and asks over TCP', async () => {
    const [b] = await ask('127.0.0.1', [withEdns(3, 'big.example', 65000)], 500);
    expect(b!.length).toBeLessThanOrEqual(MAX_UDP_ANSWER);
    expect(isTruncated(b!)).toBe(true);
    expect(answersOf(b!).ips).toEqual([]);
  });

  it(`forwards at most ${MAX_FORWARDS} questions at once: the rest get SERVFAIL at once`, async () => {
    const n = MAX_FORWARDS + 6;
    const got = await ask(
      '127.0.0.1',
      Array.from({ length: n }, (_, i) => buildQuery(100 + i, `slow.${i}.example`)),
      1000, // shorter than the 2 s the held ones wait for their upstream
    );
    expect(got.map((b) => answersOf(b).rcode)).toEqual(Array.from({ length: 6 }, () => RCODE.SERVFAIL));
  });
});
