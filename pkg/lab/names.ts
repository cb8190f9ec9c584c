import { fnvHex } from '../hash/fnv.ts';

/** Every namespace of the lab in `dir` starts with this: one machine can hold labs in different directories. */
export function labPrefix(dir: string): string {
  return `weft-lab-${fnvHex(dir, 4)}-`;
}

/** The cgroup the lab's CRI pods' cgroups go under (kubelet's pod cgroups), removed by `down`. */
export function labCgroup(dir: string): string {
  return `/${labPrefix(dir)}pods`;
}
