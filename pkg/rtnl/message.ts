/**
 * Netlink message framing: the 16-byte nlmsghdr, splitting a datagram into messages, and the error/ACK
 * message (nlmsgerr: a negative errno followed by the request's header).
 */
import { NLMSG } from './constants.ts';

export const NLMSG_HDRLEN = 16;

export interface RawMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Buffer;
}

export function encodeMessage(m: { type: number; flags: number; seq: number; pid?: number; payload: Uint8Array }): Buffer {
  const len = NLMSG_HDRLEN + m.payload.length;
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(m.type, 4);
  out.writeUInt16LE(m.flags, 6);
  out.writeUInt32LE(m.seq >>> 0, 8);
  out.writeUInt32LE((m.pid ?? 0) >>> 0, 12);
  out.set(m.payload, NLMSG_HDRLEN);
  return out;
}

export class MessageParseError extends Error {}

/** Splits one received datagram into messages. */
export function parseMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new MessageParseError(`netlink message has bad length ${len} at offset ${off}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** For an NLMSG_ERROR message: 0 for an ACK, otherwise the (positive) errno. */
export function errnoOf(m: RawMessage): number {
  if (m.type !== NLMSG.ERROR) throw new MessageParseError(`message type ${m.type} is not NLMSG_ERROR`);
  if (m.payload.length < 4) throw new MessageParseError('NLMSG_ERROR message is truncated');
  const error = m.payload.readInt32LE(0);
  return error === 0 ? 0 : -error;
}
