/**
 * Netlink attributes (TLVs: u16 length, u16 type, payload padded to 4 bytes), written and read.
 * The reader never trusts lengths: a truncated or overlong attribute ends parsing with an error rather than
 * reading past the buffer.
 */
import { NLA_F_NESTED, NLA_TYPE_MASK } from './constants.ts';

export const align4 = (n: number): number => (n + 3) & ~3;

export function encodeAttr(type: number, payload: Uint8Array): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.set(payload, 4);
  return out;
}

/** Accumulates attributes in order; `nested()` builds an NLA_F_NESTED container. */
export class AttrWriter {
  readonly #parts: Buffer[] = [];

  bytes(type: number, payload: Uint8Array): this {
    this.#parts.push(encodeAttr(type, payload));
    return this;
  }
  u8(type: number, v: number): this {
    return this.bytes(type, Uint8Array.of(v & 0xff));
  }
  u16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.bytes(type, b);
  }
  /** A big-endian u16 (ports are sent in network order, e.g. IFLA_VXLAN_PORT). */
  be16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.bytes(type, b);
  }
  u32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.bytes(type, b);
  }
  s32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.bytes(type, b);
  }
  /** NUL-terminated string. */
  str(type: number, s: string): this {
    return this.bytes(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]));
  }
  flag(type: number): this {
    return this.bytes(type, new Uint8Array(0));
  }
  nested(type: number, fill: (w: AttrWriter) => void): this {
    const inner = new AttrWriter();
    fill(inner);
    return this.bytes(type | NLA_F_NESTED, inner.toBuffer());
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

export class AttrParseError extends Error {}

/** Attributes of one level, by type (flags masked off). Repeated types keep the last value. */
export class Attrs {
  readonly #map = new Map<number, Buffer>();

  static parse(buf: Buffer, offset = 0, end = buf.length): Attrs {
    const a = new Attrs();
    let off = offset;
    while (off + 4 <= end) {
      const len = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      if (len < 4 || off + len > end) throw new AttrParseError(`attribute ${type} has bad length ${len} at offset ${off}`);
      a.#map.set(type, buf.subarray(off + 4, off + len));
      off += align4(len);
    }
    return a;
  }

  has(type: number): boolean {
    return this.#map.has(type);
  }
  get(type: number): Buffer | undefined {
    return this.#map.get(type);
  }
  u8(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 1 ? b.readUInt8(0) : undefined;
  }
  u16(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 2 ? b.readUInt16LE(0) : undefined;
  }
  be16(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 2 ? b.readUInt16BE(0) : undefined;
  }
  u32(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 4 ? b.readUInt32LE(0) : undefined;
  }
  s32(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 4 ? b.readInt32LE(0) : undefined;
  }
  str(type: number): string | undefined {
    const b = this.#map.get(type);
    if (!b) return undefined;
    const nul = b.indexOf(0);
    return b.toString('utf8', 0, nul < 0 ? b.length : nul);
  }
  nested(type: number): Attrs | undefined {
    const b = this.#map.get(type);
    return b && Attrs.parse(b);
  }
}
