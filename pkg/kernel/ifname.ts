/**
 * Interface-name rules, checked before any request reaches the kernel so a bad name is a clear typed error
 * and never a half-made object: 1-15 bytes (IFNAMSIZ 16 with the NUL), not `.` or `..`, no `/`, `:` or
 * whitespace (the same rules CNI runtimes apply to CNI_IFNAME).
 */
import { WeftError } from '../errors/mod.ts';
import { IFNAMSIZ } from '../rtnl/constants.ts';

export function ifNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'interface name is empty';
  if (bytes >= IFNAMSIZ) return `interface name "${name}" is ${bytes} bytes; Linux allows at most ${IFNAMSIZ - 1}`;
  if (name === '.' || name === '..') return `interface name "${name}" is not allowed`;
  if (/[/:\s]/.test(name)) return `interface name "${name}" contains / or : or whitespace`;
  return undefined;
}

export function assertIfName(name: string): void {
  const problem = ifNameProblem(name);
  if (problem) throw new WeftError('WEFT_INVALID_ARGUMENT', problem);
}
