import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forward, frame, readFramed } from './forward.ts';
import { answersOf, buildQuery, isTruncated } from './message.ts';

// An upstream on loopback that, like a real one with a big answer, truncates over UDP and answers whole over TCP.
const ips = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
const answer = (query: Buffer, truncated: boolean) => {
  const q = dnsPacket.decode(query);
  return dnsPacket.encode({
    id: q.id,
    type: 'response',
    flags: truncated ? dnsPacket.TRUNCATED_RESPONSE : 0,
    questions: q.questions,
    answers: truncated ? [] : ips.map((data) => ({ type: 'A', class: 'IN', name: q.questions![0]!.name, ttl: 5, data })),
  });
};
const udp = createSocket('udp4');
const tcp = createServer((c) => readFramed(c, (m) => c.end(frame(answer(m, false)))));
let port = 0;

beforeAll(async () => {
  await new Promise<void>((ok) => tcp.listen(0, '127.0.0.1', ok));
  port = (tcp.address() as { port: number }).port;
  udp.on('message', (m, r) => udp.send(answer(m, true), r.port, r.address));
  await new Promise<void>((ok) => udp.bind(port, '127.0.0.1', ok));
});
afterAll(() => {
  udp.close();
  tcp.close();
});

describe('forwarding to the host resolvers', () => {
  it('asks a truncated UDP answer again over TCP and relays the whole one when the client takes it', async () => {
    const whole = (await forward(buildQuery(1, 'big.example'), ['127.0.0.1'], 4096, port))!;
    expect(isTruncated(whole)).toBe(false);
    expect(answersOf(whole).ips).toEqual(ips);
  });

  it('relays the truncated answer to a UDP client that takes 512 bytes (it then asks over TCP)', async () => {
    expect(isTruncated((await forward(buildQuery(2, 'big.example'), ['127.0.0.1'], 512, port))!)).toBe(true);
  });

  it('asks over TCP for a TCP client', async () => {
    expect(answersOf((await forward(buildQuery(3, 'big.example'), ['127.0.0.1'], undefined, port))!).ips).toHaveLength(40);
  });
});
