/**
 * The esbuild step both builds share: CommonJS bundles of the CLI and daemon (weft.cjs) and of the CNI
 * plugin alone (weft-cni.cjs, so a runtime's invocation parses ~110 KiB rather than the etcd client too).
 *
 * The native addons (netlink, koffi) are never bundled: pkg/kernel/native.ts dlopens their prebuilt binaries
 * by path. Everything else is, so nothing is left to resolve from node_modules at run time.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundleOptions {
  readonly root: string;
  readonly outdir: string;
}

export async function bundle(o: BundleOptions): Promise<{ weft: number; cni: number }> {
  const pkg = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { version: string };
  const result = await build({
    entryPoints: { weft: join(o.root, 'cmd/weft/main.ts'), 'weft-cni': join(o.root, 'cmd/weft/cni-main.ts') },
    outdir: o.outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    external: ['netlink', 'netlink/*', 'koffi'],
    define: { __WEFT_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__weftImportMetaUrl' },
    banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  const bytes = (f: string) => Object.entries(result.metafile.outputs).find(([k]) => k.endsWith(f))![1].bytes;
  return { weft: bytes('/weft.cjs'), cni: bytes('/weft-cni.cjs') };
}
