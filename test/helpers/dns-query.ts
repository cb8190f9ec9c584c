/**
 * One DNS query from inside a namespace (run there with `ip netns exec NS node dns-query.ts ...`), over UDP
 * or TCP, printing the answer's rcode, A, AAAA and PTR records as JSON, and how long it took.
 *
 *   node test/helpers/dns-query.ts SERVER NAME TYPE udp|tcp
 */
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { frame, readFramed } from '../../pkg/dns/forward.ts';
import { answersOf, buildQuery } from '../../pkg/dns/message.ts';

const [server, name, type, transport] = process.argv.slice(2) as [string, string, 'A' | 'AAAA' | 'PTR', 'udp' | 'tcp'];
const query = buildQuery(4321, name, type);
const t0 = performance.now();
const done = (b: Buffer) => {
  process.stdout.write(`${JSON.stringify({ ...answersOf(b), ms: performance.now() - t0 })}\n`);
  process.exit(0);
};
setTimeout(() => {
  process.stderr.write('no answer within 5 s\n');
  process.exit(1);
}, 5000);
if (transport === 'tcp') {
  const s = createConnection({ host: server, port: 53 }, () => s.write(frame(query)));
  readFramed(s, done);
} else {
  const s = createSocket(server.includes(':') ? 'udp6' : 'udp4');
  s.on('message', done);
  s.send(query, 53, server);
}
