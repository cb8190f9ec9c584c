/**
 * Asking the host's resolvers for what weft does not answer itself: over UDP first, and over TCP when the
 * UDP answer comes back truncated (or the client itself asked over TCP). TCP messages carry a two-byte
 * length before each message (RFC 1035 4.2.2); `readFramed` splits a stream into them.
 */
import { createSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import { isResponseTo, isTruncated } from './message.ts';

const TIMEOUT_MS = 2000;

export const frame = (msg: Buffer): Buffer => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

/** Calls `onMessage` for every whole length-prefixed message arriving on `sock`. */
export function readFramed(sock: Socket, onMessage: (msg: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      onMessage(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      pending = pending.subarray(2 + pending.readUInt16BE(0));
    }
  });
}

/**
 * One question over UDP. Only a response from the upstream's address and port, with the question's ID, is
 * taken: anything else reaching the ephemeral port (a forged answer) is ignored. `done` runs once: two
 * datagrams read in one turn of the loop both reach the listener, and a second close() would throw.
 */
function udp(msg: Buffer, upstream: string, port: number): Promise<Buffer | undefined> {
  return new Promise((res) => {
    const s = createSocket('udp4');
    const id = msg.readUInt16BE(0);
    let settled = false;
    const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
    const done = (b: Buffer | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.close();
      res(b);
    };
    s.on('message', (b, from) => {
      if (from.address === upstream && from.port === port && isResponseTo(b, id)) done(b);
    });
    s.on('error', () => done(undefined));
    s.send(msg, port, upstream);
  });
}

function tcp(msg: Buffer, upstream: string, port: number): Promise<Buffer | undefined> {
  return new Promise((res) => {
    const s = createConnection({ host: upstream, port });
    const id = msg.readUInt16BE(0);
    const done = (b: Buffer | undefined) => {
      s.destroy();
      res(b);
    };
    s.setTimeout(TIMEOUT_MS, () => done(undefined));
    s.on('error', () => done(undefined));
    s.on('close', () => done(undefined));
    s.on('connect', () => s.write(frame(msg)));
    readFramed(s, (answer) => isResponseTo(answer, id) && done(answer));
  });
}

/**
 * The first upstream's answer to `msg`. For a UDP client (`udpSize` set), a truncated answer is asked again
 * over TCP and the whole one returned if it fits what the client takes; otherwise the truncated one, and the
 * client asks again over TCP, as resolvers do.
 */
export async function forward(
  msg: Buffer,
  upstreams: readonly string[],
  udpSize: number | undefined,
  port = 53,
): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    if (udpSize === undefined) {
      const whole = await tcp(msg, upstream, port);
      if (whole) return whole;
      continue;
    }
    const answer = await udp(msg, upstream, port);
    if (!answer) continue;
    if (!isTruncated(answer)) return answer;
    const whole = await tcp(msg, upstream, port);
    return whole && whole.length <= udpSize ? whole : answer;
  }
  return undefined;
}
