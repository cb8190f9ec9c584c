/**
 * Numeric options: yargs' `type: 'number'` turns "abc" into NaN, which JSON sends as null, which the daemon
 * read as "not given" (issue 11: `weft network create --vni abc` made a network with the default VNI). Every
 * numeric option is a string coerced here: a whole number in range, or a usage error naming the option.
 */
import { DEFAULT_SOCKET } from '../../../pkg/contract/mod.ts';
import { UsageError } from '../usage.ts';

/** The local daemon's API socket, as every command that asks the daemon takes it. */
export const socketOption = {
  type: 'string',
  default: process.env.WEFT_SOCKET ?? DEFAULT_SOCKET,
  describe: "the local weft daemon's API socket (env WEFT_SOCKET)",
} as const;

export function wholeNumber(name: string, min: number, max: number): (v: unknown) => number | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = String(Array.isArray(v) ? v.at(-1) : v).trim();
    if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a whole number`);
    const n = Number(text);
    if (n < min || n > max) throw new UsageError(`--${name} ${n} must be from ${min} to ${max}`);
    return n;
  };
}
