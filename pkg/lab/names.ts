import { fnvHex } from '../hash/fnv.ts';

/** Every namespace of the lab in `dir` starts with this: one machine can hold labs in different directories. */
export function labPrefix(dir: string): string {
  return `weft-lab-${fnvHex(dir, 4)}-`;
}
