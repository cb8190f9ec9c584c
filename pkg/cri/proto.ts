/**
 * The protobuf wire format, as much of it as the CRI messages weft's tests and lab send and read: varints,
 * length-delimited fields (strings, nested messages, maps as repeated key/value entries) and the skipping of
 * fixed-width fields nobody here reads. Pure, no dependencies.
 *
 * Why by hand and not @grpc/proto-loader with a .proto file: the lab runs from the single executable, which
 * carries no devDependencies, and the few messages needed (a dozen, every field a string, a bool, an int32 or a
 * nested message) are shorter to write from the CRI API's field numbers than a trimmed .proto plus two
 * packages (grpc-js alone is ~1 MiB loaded). The encoder follows proto3: a scalar equal to its default is not
 * written; a nested message is written when given, even empty.
 */

/** A field as it was on the wire: a varint (as bigint: int64 fields exceed 2^53) or the bytes of a length-delimited one. */
export type WireValue = bigint | Uint8Array;
/** A decoded message: field number -> every occurrence, in order (repeated fields and maps have several). */
export type Fields = ReadonlyMap<number, readonly WireValue[]>;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function varint(n: bigint): number[] {
  // Negative int32/int64 values are sent as 10-byte two's complement, as protobuf does.
  let v = n < 0n ? n + (1n << 64n) : n;
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const tag = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

/** One message being written, field by field. */
export class ProtoWriter {
  readonly #parts: Uint8Array[] = [];

  /** A varint field (int32, int64, uint32, bool, enum); omitted when 0, as proto3 does. */
  uint(field: number, v: number | bigint | boolean | undefined): this {
    const n = typeof v === 'boolean' ? BigInt(v) : BigInt(v ?? 0);
    if (n !== 0n) this.#parts.push(Uint8Array.from([...tag(field, VARINT), ...varint(n)]));
    return this;
  }

  /** A string field; omitted when empty. */
  string(field: number, s: string | undefined): this {
    if (s) this.bytes(field, new TextEncoder().encode(s));
    return this;
  }

  /** Each string of a `repeated string` field. */
  strings(field: number, list: readonly string[] | undefined): this {
    for (const s of list ?? []) this.bytes(field, new TextEncoder().encode(s));
    return this;
  }

  /** A nested message, written when given (an empty message is still "set"). */
  message(field: number, m: ProtoWriter | undefined): this {
    if (m) this.bytes(field, m.finish());
    return this;
  }

  /** Each message of a `repeated` message field. */
  messages(field: number, list: readonly ProtoWriter[]): this {
    for (const m of list) this.bytes(field, m.finish());
    return this;
  }

  /** A `map<string, string>`: one entry message (key = 1, value = 2) per pair. */
  map(field: number, m: Readonly<Record<string, string>> | undefined): this {
    for (const [k, v] of Object.entries(m ?? {})) {
      // An empty key or value is left out like any empty string: it decodes to "" all the same.
      this.message(field, new ProtoWriter().string(1, k).string(2, v));
    }
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.#parts.push(Uint8Array.from([...tag(field, LEN), ...varint(BigInt(b.length))]), b);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

/** Decodes one message's fields; throws on truncated or malformed input (the bytes come from a server). */
export function decode(buf: Uint8Array): Fields {
  const out = new Map<number, WireValue[]>();
  let at = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length) throw new Error('protobuf: truncated varint');
      if (shift > 63n) throw new Error('protobuf: varint longer than 10 bytes');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  while (at < buf.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new Error('protobuf: field number 0');
    let value: WireValue | undefined;
    switch (wire) {
      case VARINT:
        value = readVarint();
        break;
      case LEN: {
        const len = Number(readVarint());
        if (at + len > buf.length) throw new Error(`protobuf: field ${field} runs past the end (${len} bytes)`);
        value = buf.subarray(at, at + len);
        at += len;
        break;
      }
      case I64:
      case I32:
        // fixed64/double/fixed32/float: no CRI field read here has them; skipped.
        at += wire === I64 ? 8 : 4;
        if (at > buf.length) throw new Error(`protobuf: field ${field} runs past the end`);
        break;
      default:
        throw new Error(`protobuf: wire type ${wire} of field ${field} is not supported`);
    }
    if (value !== undefined) out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const last = (f: Fields, n: number): WireValue | undefined => f.get(n)?.at(-1);
const asBytes = (v: WireValue | undefined, n: number): Uint8Array | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'bigint') throw new Error(`protobuf: field ${n} is a varint where a length-delimited field was expected`);
  return v;
};

/** Typed reads of a decoded message (proto3 defaults when absent; the last occurrence of a scalar wins). */
export const read = {
  string: (f: Fields, n: number): string => {
    const b = asBytes(last(f, n), n);
    return b ? new TextDecoder().decode(b) : '';
  },
  strings: (f: Fields, n: number): string[] => (f.get(n) ?? []).map((v) => new TextDecoder().decode(asBytes(v, n))),
  int: (f: Fields, n: number): bigint => {
    const v = last(f, n);
    if (v !== undefined && typeof v !== 'bigint') throw new Error(`protobuf: field ${n} is length-delimited where a varint was expected`);
    return v ?? 0n;
  },
  bool: (f: Fields, n: number): boolean => read.int(f, n) !== 0n,
  message: (f: Fields, n: number): Fields | undefined => {
    const b = asBytes(last(f, n), n);
    return b ? decode(b) : undefined;
  },
  messages: (f: Fields, n: number): Fields[] => (f.get(n) ?? []).map((v) => decode(asBytes(v, n)!)),
  map: (f: Fields, n: number): Record<string, string> =>
    Object.fromEntries(read.messages(f, n).map((e) => [read.string(e, 1), read.string(e, 2)])),
};
