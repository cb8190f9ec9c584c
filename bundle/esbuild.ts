/**
 * The esbuild step both builds share, two bundles for two kinds of process:
 *
 * - weft-cni.cjs: the CNI plugin alone, one CommonJS file (~90 KiB). A runtime starts it for every container
 *   and waits on it, so it is one file read and one compile, with no module resolution; weft-cni-version.cjs
 *   (a few KiB) answers VERSION alone.
 * - weft.mjs and its chunks: the CLI and the daemon, ES modules split at every dynamic import. A process loads
 *   only what its path imports: the daemon in etcd mode never reads the Kubernetes client (5.6 MiB of
 *   source, ~15 MiB of the daemon's memory when it was one file), the daemon never loads yargs, `weft version`
 *   loads neither.
 *
 * Both are minified for whitespace and syntax but keep their identifiers, so a stack trace (`--debug`) still
 * names the functions. The native addons (netlink, koffi) are never bundled: pkg/kernel/native.ts dlopens
 * their prebuilt binaries by path. Everything else is, so nothing is left to resolve from node_modules.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface BundleOptions {
  readonly root: string;
  readonly outdir: string;
}

export interface BundleOutput {
  /** Every file written, by its name in outdir. */
  readonly files: readonly string[];
  /** Bytes of the plugin's bundle and of the CLI/daemon's entry with all its chunks. */
  readonly cni: number;
  readonly weft: number;
}

export async function bundle(o: BundleOptions): Promise<BundleOutput> {
  const pkg = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { version: string };
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node24',
    external: ['netlink', 'netlink/*', 'koffi'],
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
    outdir: o.outdir,
  };
  const cni = await build({
    ...common,
    entryPoints: { 'weft-cni': join(o.root, 'cmd/weft/cni-main.ts'), 'weft-cni-version': join(o.root, 'cmd/weft/cni-version.ts') },
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    define: { __WEFT_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__weftImportMetaUrl' },
    banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  const weft = await build({
    ...common,
    entryPoints: { weft: join(o.root, 'cmd/weft/main.ts') },
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    splitting: true,
    chunkNames: 'weft-[hash]',
    define: { __WEFT_VERSION__: JSON.stringify(pkg.version) },
    // Bundled CommonJS dependencies call require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);",
    },
  });
  return { files: [...names(cni.metafile), ...names(weft.metafile)], cni: total(cni.metafile), weft: total(weft.metafile) };
}

const names = (m: Metafile | undefined): string[] => Object.keys(m!.outputs).map((f) => basename(f));
const total = (m: Metafile | undefined): number => Object.values(m!.outputs).reduce((n, x) => n + x.bytes, 0);

/**
 * bundle/cni-loader.cjs as an expression whose value is its runCni function, for a launcher to inline: it
 * needs only Node's built-in modules, so it runs even as a single executable's main script.
 */
export function cniLoaderExpression(root: string): string {
  const source = readFileSync(join(root, 'bundle', 'cni-loader.cjs'), 'utf8').replace(/^'use strict';\n/, '');
  return `(() => {\nconst module = { exports: undefined };\n${source}\nreturn module.exports;\n})()`;
}
