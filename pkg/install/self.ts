/**
 * This executable, for what weft starts as itself (the CNI plugin behind `weft network connect`, the lab's
 * daemons) and what `weft install` copies: the single executable, or, from the plain-Node build, the
 * launcher script (executable through its shebang).
 */
import { resolve } from 'node:path';

export function isSingleExecutable(): boolean {
  const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() ?? false;
}

export function selfExecutable(): string {
  return isSingleExecutable() ? process.execPath : resolve(process.argv[1]!);
}

/** How to run this executable as a child: through this Node when it is not the single executable. */
export function selfCommand(): string[] {
  return isSingleExecutable() ? [process.execPath] : [process.execPath, resolve(process.argv[1]!)];
}
