/**
 * Reading JSON the way Go's encoding/json fills a struct: keys match field names case-insensitively, and when
 * a key appears more than once (in any case) the last one wins. flannel reads every config and lease this
 * way, so `network`, `NETWORK` and `Network` all mean the same field.
 */
export type JsonObject = Readonly<Record<string, unknown>>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of field `name` in `o`, matched as Go matches it; undefined when absent. */
export function field(o: JsonObject, name: string): unknown {
  const want = name.toLowerCase();
  let found: unknown;
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === want) found = v;
  return found;
}

/** Parses text that must hold a JSON object. */
export function parseObject(text: string): { ok: true; value: JsonObject } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  return isObject(v) ? { ok: true, value: v } : { ok: false, reason: 'not a JSON object' };
}
