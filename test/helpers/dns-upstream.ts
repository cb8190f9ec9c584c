/**
 * A stand-in for a host's upstream resolver (issue 25's tests): UDP port 53 on every address of the namespace
 * it runs in, answering every A question with 198.51.100.7, and printing one JSON line per question it was
 * asked (`{"name": ..., "from": ...}`) so a test can tell what weft forwarded. Prints `listening` first.
 *
 *   ip netns exec NS node test/helpers/dns-upstream.ts
 */
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export const UPSTREAM_ANSWER = '198.51.100.7';

if (import.meta.main) {
  const s = createSocket('udp4');
  s.on('message', (m, r) => {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(m);
    } catch {
      return;
    }
    const name = q.questions?.[0]?.name ?? '';
    process.stdout.write(`${JSON.stringify({ name, from: r.address })}\n`);
    const answers = [{ type: 'A' as const, class: 'IN' as const, name, ttl: 5, data: UPSTREAM_ANSWER }];
    s.send(
      dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }),
      r.port,
      r.address,
    );
  });
  s.bind(53, '0.0.0.0', () => process.stdout.write('listening\n'));
}
