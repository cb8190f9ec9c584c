/**
 * etcd's v3 API in the JSON form its gateway speaks (the protobuf messages in proto3 JSON): bytes are
 * base64, 64-bit integers are decimal strings, and fields at their default value are left out (a missing
 * `lease` is 0, a missing `succeeded` is false, a missing event `type` is PUT). Pure.
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** etcd lease ID as decimal text; "0" when none. */
  readonly lease: string;
  readonly modRevision: string;
  readonly createRevision: string;
  readonly version: string;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly kv: KeyValue }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: string };

export interface WireKv {
  key?: string;
  value?: string;
  lease?: string;
  mod_revision?: string;
  create_revision?: string;
  version?: string;
}

export interface WireHeader {
  revision?: string;
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The range end that makes [prefix, end) exactly the keys starting with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every key
}

export function decodeKv(w: WireKv): KeyValue {
  return {
    key: unb64(w.key),
    value: unb64(w.value),
    lease: w.lease ?? '0',
    modRevision: w.mod_revision ?? '0',
    createRevision: w.create_revision ?? '0',
    version: w.version ?? '0',
  };
}

export function decodeEvent(e: { type?: string; kv?: WireKv }): WatchEvent {
  const kv = decodeKv(e.kv ?? {});
  return e.type === 'DELETE' ? { type: 'delete', key: kv.key, modRevision: kv.modRevision } : { type: 'put', kv };
}

/**
 * A comparison in a transaction: `target(key) op value`. With `prefix`, it holds for every key starting with
 * `key` (etcd's range compare); over no key at all it compares a key that does not exist (version, mod and
 * create revision 0), so `version == 0` over a prefix says "no key has it".
 */
export interface Compare {
  readonly key: string;
  readonly prefix?: boolean;
  readonly target: 'version' | 'mod' | 'create' | 'value';
  readonly op: '==' | '!=' | '>' | '<';
  readonly value: string | number;
}

export type Op =
  | { readonly put: string; readonly value: string; readonly lease?: string }
  | { readonly delete: string }
  | { readonly deletePrefix: string };

const RESULT = { '==': 'EQUAL', '!=': 'NOT_EQUAL', '>': 'GREATER', '<': 'LESS' } as const;
const TARGET = {
  version: ['VERSION', 'version'],
  mod: ['MOD', 'mod_revision'],
  create: ['CREATE', 'create_revision'],
  value: ['VALUE', 'value'],
} as const;

export function encodeCompare(c: Compare): Record<string, string> {
  const [target, field] = TARGET[c.target];
  return {
    key: b64(c.key),
    ...(c.prefix && { range_end: prefixEnd(c.key) }),
    target,
    result: RESULT[c.op],
    [field]: c.target === 'value' ? b64(String(c.value)) : String(c.value),
  };
}

export function encodeOp(o: Op): Record<string, unknown> {
  if ('put' in o) return { request_put: { key: b64(o.put), value: b64(o.value), ...(o.lease && o.lease !== '0' && { lease: o.lease }) } };
  if ('delete' in o) return { request_delete_range: { key: b64(o.delete) } };
  return { request_delete_range: { key: b64(o.deletePrefix), range_end: prefixEnd(o.deletePrefix) } };
}

/** Splits a stream of newline-separated JSON objects (the gateway's server stream) into whole lines. */
export class LineSplitter {
  #rest = '';

  push(chunk: string): string[] {
    const parts = (this.#rest + chunk).split('\n');
    this.#rest = parts.pop()!;
    return parts.filter((l) => l.trim() !== '');
  }
}
