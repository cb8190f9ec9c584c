/**
 * The esbuild step both builds share: CommonJS bundles of the CLI and daemon (weft.cjs) and of the CNI
 * plugin alone (weft-cni.cjs, so a runtime's invocation parses ~110 KiB rather than the etcd client too).
 *
 * The native addons (netlink, koffi) are never bundled: pkg/kernel/native.ts dlopens their prebuilt binaries
 * by path. etcd3 reads its .proto files from `${__dirname}/../proto` at run time; the single-executable
 * build bundles it anyway and points that read at WEFT_PROTO_DIR, where the executable unpacks the files.
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundleOptions {
  readonly root: string;
  readonly outdir: string;
  /** Bundle etcd3 too (its protos then come from WEFT_PROTO_DIR): nothing is left to resolve from node_modules. */
  readonly selfContained: boolean;
}

const PROTO_READ = '`${__dirname}/../proto/rpc.proto`';

const etcdProtoDir: Plugin = {
  name: 'etcd3-proto-dir',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes(PROTO_READ)) throw new Error(`etcd3 no longer reads its protos as ${PROTO_READ}; update bundle/esbuild.ts`);
      return { contents: src.replace(PROTO_READ, '`${process.env.WEFT_PROTO_DIR}/rpc.proto`'), loader: 'js' };
    });
  },
};

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
    external: ['netlink', 'netlink/*', 'koffi', ...(o.selfContained ? [] : ['etcd3'])],
    plugins: o.selfContained ? [etcdProtoDir] : [],
    define: { __WEFT_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__weftImportMetaUrl' },
    banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  const bytes = (f: string) => Object.entries(result.metafile.outputs).find(([k]) => k.endsWith(f))![1].bytes;
  return { weft: bytes('/weft.cjs'), cni: bytes('/weft-cni.cjs') };
}
