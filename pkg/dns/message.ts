/**
 * The little of DNS (RFC 1035) a container-name resolver needs: read a standard query with one question, and
 * write an answer with A records, an empty answer, or an error code. Malformed input is refused (undefined),
 * never thrown: the server sits where any container can send it anything.
 */
import { ipv4ToBytes, parseIPv4 } from '../netaddr/ip.ts';

export const TYPE = { A: 1, AAAA: 28, ANY: 255 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export interface Question {
  /** Lower-case, without the trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly cls: number;
}

export interface Query {
  readonly id: number;
  readonly flags: number;
  readonly question: Question;
  /** Bytes of the header and question (what an answer repeats). */
  readonly questionEnd: number;
  readonly raw: Buffer;
}

export function parseQuery(buf: Buffer): Query | undefined {
  if (buf.length < 12) return undefined;
  const flags = buf.readUInt16BE(2);
  const isQuery = (flags & 0x8000) === 0 && ((flags >> 11) & 0xf) === 0;
  if (!isQuery || buf.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= buf.length) return undefined;
    const len = buf[off]!;
    off++;
    if (len === 0) break;
    if (len > 63 || off + len > buf.length) return undefined; // compression pointers never occur in a question
    labels.push(buf.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > buf.length) return undefined;
  const name = labels.join('.').toLowerCase();
  return {
    id: buf.readUInt16BE(0),
    flags,
    question: { name, type: buf.readUInt16BE(off), cls: buf.readUInt16BE(off + 2) },
    questionEnd: off + 4,
    raw: buf,
  };
}

/** An authoritative answer: `ips` as A records (none: an empty NOERROR answer), or the error `rcode`. */
export function buildResponse(q: Query, opts: { ips?: readonly string[]; rcode?: number; ttl?: number }): Buffer {
  const ips = (opts.ips ?? []).filter((ip) => parseIPv4(ip) !== undefined);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const rd = q.flags & 0x0100;
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | ((opts.rcode ?? RCODE.NOERROR) & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const question = q.raw.subarray(12, q.questionEnd);
  const answers = ips.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE.A, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(opts.ttl ?? 10, 6);
    rr.writeUInt16BE(4, 10);
    Buffer.from(ipv4ToBytes(parseIPv4(ip)!)).copy(rr, 12);
    return rr;
  });
  return Buffer.concat([header, question, ...answers]);
}

/** A query for `name` of `type` (tests and health checks use it). */
export function buildQuery(id: number, name: string, type: number = TYPE.A): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const labels = name
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l, 'latin1')]));
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([header, ...labels, tail]);
}

/** The A records of a response (for tests and the lab's checks). */
export function answersOf(buf: Buffer): { rcode: number; ips: string[] } {
  const rcode = buf.readUInt16BE(2) & 0xf;
  const an = buf.readUInt16BE(6);
  let off = 12;
  while (buf[off] !== 0) off += buf[off]! + 1;
  off += 5;
  const ips: string[] = [];
  for (let i = 0; i < an; i++) {
    off += 2;
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    if (type === TYPE.A && rdlen === 4) ips.push([...buf.subarray(off + 10, off + 14)].join('.'));
    off += 10 + rdlen;
  }
  return { rcode, ips };
}
