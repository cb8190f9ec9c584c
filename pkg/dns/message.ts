/**
 * DNS messages through `dns-packet` (a maintained codec): read a standard query with one question, and write
 * an answer (A, AAAA or PTR records, an empty answer, or an error code). Malformed input is refused (undefined),
 * never thrown: the server sits where any container can send it anything.
 */
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

export type { Question };

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
/** What a client may receive over UDP without EDNS (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;
/**
 * The largest UDP answer weft sends, whatever size the client offers (issue 25): DNS Flag Day 2020's EDNS
 * buffer size, the largest payload that crosses IPv6's minimum MTU (1280 - 40 - 8) unfragmented, and the
 * default of BIND, Unbound, Knot and PowerDNS. A bigger answer goes out as an empty one with TC set, and the
 * client asks again over TCP, whose handshake a forged source address cannot complete: so what one small
 * UDP query can make weft send is bounded by this, not by what an upstream chose to return (up to 64 KiB).
 */
export const MAX_UDP_ANSWER = 1232;

export interface Query {
  readonly id: number;
  readonly flags: number;
  /** The question as asked (its name's case is echoed back: resolvers may randomise it). */
  readonly question: Question;
  /** The name in lower case, without the trailing dot. */
  readonly name: string;
  /** The largest UDP answer the client takes (its EDNS payload size, else 512). */
  readonly udpSize: number;
}

export function parseQuery(buf: Buffer): Query | undefined {
  let p: Packet;
  try {
    p = dnsPacket.decode(buf);
  } catch {
    return undefined;
  }
  const q = p.questions?.[0];
  if (p.type !== 'query' || (p as { opcode?: string }).opcode !== 'QUERY' || p.questions?.length !== 1 || !q) return undefined;
  const opt = p.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return {
    id: p.id ?? 0,
    flags: p.flags ?? 0,
    question: q,
    name: q.name.toLowerCase().replace(/\.$/, ''),
    udpSize: Math.max(CLASSIC_UDP_SIZE, opt?.udpPayloadSize ?? 0),
  };
}

/** An authoritative answer: A records for `ips`, AAAA for `ips6`, PTR for `names`, none (NOERROR), or `rcode`. */
export function buildResponse(
  q: Query,
  opts: { ips?: readonly string[]; ips6?: readonly string[]; names?: readonly string[]; rcode?: number; ttl?: number; truncated?: boolean },
): Buffer {
  const ttl = opts.ttl ?? 10;
  const { name } = q.question;
  const answers: Answer[] = [
    ...(opts.ips ?? []).map((ip): Answer => ({ type: 'A', class: 'IN', name, ttl, data: ip })),
    ...(opts.ips6 ?? []).map((ip): Answer => ({ type: 'AAAA', class: 'IN', name, ttl, data: ip })),
    ...(opts.names ?? []).map((n): Answer => ({ type: 'PTR', class: 'IN', name, ttl, data: n })),
  ];
  const rd = q.flags & dnsPacket.RECURSION_DESIRED;
  return dnsPacket.encode({
    id: q.id,
    type: 'response',
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER |
      rd |
      dnsPacket.RECURSION_AVAILABLE |
      (opts.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      ((opts.rcode ?? RCODE.NOERROR) & 0xf),
    questions: [q.question],
    answers: opts.truncated ? [] : answers,
  });
}

/**
 * `answer` as it may go to a UDP client of `q`: itself when it fits both what the client takes and
 * MAX_UDP_ANSWER, else an empty answer with TC set (the client asks again over TCP).
 */
export function fitUdp(q: Query, answer: Buffer): Buffer {
  return answer.length <= Math.min(q.udpSize, MAX_UDP_ANSWER) ? answer : buildResponse(q, { truncated: true });
}

/** Whether `answer` is a response whose ID is `id` (an upstream's answer to our question, not a stray packet). */
export const isResponseTo = (answer: Buffer, id: number): boolean =>
  answer.length >= 12 && answer.readUInt16BE(0) === id && (answer.readUInt16BE(2) & 0x8000) !== 0;

/** Whether an upstream's answer was cut short (TC): the full one needs TCP. */
export const isTruncated = (answer: Buffer): boolean => answer.length >= 4 && (answer.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0;

/** A query for `name` of `type` (tests and health checks use it). */
export function buildQuery(id: number, name: string, type: Question['type'] = 'A'): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, class: 'IN', name }] });
}

/** The A, AAAA and PTR records of a response (for tests and the lab's checks); `ips6` only when there are any. */
export function answersOf(buf: Buffer): { rcode: number; ips: string[]; ips6?: string[]; names: string[] } {
  const p = dnsPacket.decode(buf);
  const data = (t: string) => (p.answers ?? []).filter((a) => a.type === t).map((a) => String((a as { data: unknown }).data));
  const ips6 = data('AAAA');
  return { rcode: (p.flags ?? 0) & 0xf, ips: data('A'), ...(ips6.length > 0 && { ips6 }), names: data('PTR') };
}
