/**
 * CNI_ARGS (`K=V;K2=V2`). Runtimes put Kubernetes pod identity and static IP/MAC requests here. weft reads
 * the keys it knows and ignores the rest (as if IgnoreUnknown were always set: every runtime sets it, and an
 * error on an unknown key would only ever block a teardown). A malformed pair is an error on ADD and CHECK,
 * and ignored on DEL, which must not fail over arguments it does not need.
 */
import { WeftError } from '../errors/mod.ts';

export function parseCniArgs(s: string, opts: { lenient?: boolean } = {}): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (s === '') return out;
  for (const pair of s.split(';')) {
    const parts = pair.split('=');
    if (parts.length !== 2 || parts[0] === '') {
      if (opts.lenient) continue;
      throw new WeftError('WEFT_INVALID_ENV', `CNI_ARGS: invalid pair "${pair}" (expected KEY=VALUE pairs separated by ";")`);
    }
    out.set(parts[0]!, parts[1]!);
  }
  return out;
}
