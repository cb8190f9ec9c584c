/**
 * UDP datagrams between namespaces, with the tests' own Node (it has no raw sockets): a sink that records
 * where each datagram came from, and a sender that may put any source address on the wire, as a container's
 * raw socket (CAP_NET_RAW, which Docker and podman grant by default) would. A source that is not the
 * namespace's own is put on its interface for the moment of sending (`ip_nonlocal_bind` is not enough: the
 * kernel refuses to route IPv4 from an address that is not local). Test code only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { defer } from './netns.ts';

export interface UdpSink {
  /** The datagrams received so far: where each came from (as it arrived: masquerading rewrites it) and its text. */
  received(): Array<{ from: string; text: string }>;
  close(): void;
}

const SINK = `
const s = require('node:dgram').createSocket(process.argv[2] === '6' ? 'udp6' : 'udp4');
s.on('message', (m, r) => process.stdout.write(r.address + ' ' + m.toString().replace(/\\s/g, '') + '\\n'));
s.bind(Number(process.argv[1]), () => process.stdout.write('listening\\n'));
`;

/** Listens on `port` (every address of the family) in `ns` until closed (after the test at the latest). */
export async function udpSink(ns: string, port: number, family: 4 | 6 = 4): Promise<UdpSink> {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SINK, String(port), String(family)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const close = () => p.kill('SIGKILL');
  defer(close);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`UDP sink in ${ns} exited ${code}`)));
  });
  return {
    received: () =>
      out
        .split('\n')
        .filter((l) => l !== '' && l !== 'listening')
        .map((l) => {
          const [from = '', text = ''] = l.split(' ');
          return { from: from.replace(/^::ffff:/, ''), text };
        }),
    close,
  };
}

const SEND = `
const [src, dst, port, count, tag] = process.argv.slice(1);
const s = require('node:dgram').createSocket(dst.includes(':') ? 'udp6' : 'udp4');
s.bind({ address: src }, async () => {
  for (let i = 0; i < Number(count); i++) {
    await new Promise((r, j) => s.send(tag + '-' + i, Number(port), dst, (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 20));
  }
  s.close();
});
`;

/**
 * Sends `count` datagrams from `src` (any address) to `dst`:`port`, from inside `ns` (out of `dev`), each
 * carrying `tag` (the sink counts them by it, whatever source address they arrive with).
 */
export function udpSend(ns: string, o: { src: string; dst: string; port: number; tag: string; count?: number; dev?: string }): void {
  const dev = o.dev ?? 'eth0';
  const own = spawnSync('ip', ['-n', ns, '-j', 'addr', 'show'], { encoding: 'utf8' }).stdout.includes(`"local":"${o.src}"`);
  const cidr = o.src.includes(':') ? `${o.src}/128` : `${o.src}/32`;
  if (!own) spawnSync('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev, ...(o.src.includes(':') ? ['nodad'] : [])]);
  try {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', ns, process.execPath, '-e', SEND, o.src, o.dst, String(o.port), String(o.count ?? 5), o.tag],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    if (r.status !== 0) throw new Error(`UDP send from ${o.src} in ${ns} failed: ${r.stderr}`);
  } finally {
    if (!own) spawnSync('ip', ['-n', ns, 'addr', 'del', cidr, 'dev', dev]);
  }
}

/** Waits a moment for datagrams in flight, then gives how many carrying `tag` `sink` received. */
export async function arrived(sink: UdpSink, tag: string, ms = 500): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return sink.received().filter((d) => d.text.startsWith(`${tag}-`)).length;
}
