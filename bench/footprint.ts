/**
 * What weft costs a host, each figure next to a peer measured in the same run (bench/footprint/*):
 *
 *   size     dist/weft and its parts, next to Debian's bridge + host-local;
 *   cni      start-up (VERSION against `node -e 0`) and the work of ADD and DEL above it, next to bridge + host-local;
 *   burst    50 concurrent ADDs then DELs on one host: time and the peak memory of all plugin processes together;
 *   daemon   the daemon's RSS idle in etcd mode, with 5,000 remote leases and in Kubernetes mode, next to a bare
 *            Node process and the etcd server;
 *   profile  where a CNI ADD's time goes, from V8's sampling profiler.
 *
 * Run as root after `npm run bundle`:
 *
 *   npm run bench:footprint [-- SECTION...] [--cycles=N] [--idle=SECONDS] [--burst=N]
 *
 * (defaults: every section, 40 cycles, 60 s idle, a burst of 50 in 3 rounds). `npm run bench:cni` is the cni
 * section alone.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { table } from '../pkg/measure/mod.ts';
import { measureBurst } from './footprint/burst.ts';
import { cniTable, measureCni } from './footprint/cni.ts';
import { measureDaemon } from './footprint/daemon.ts';
import { profileAdd } from './footprint/profile.ts';
import { sizeRows } from './footprint/size.ts';

const ROOT = resolve(import.meta.dirname, '..');
const WEFT = resolve(ROOT, 'dist/weft');
// The Node the single executable carries (bundle/sea.ts leaves it in dist/sea): `node -e 0` with the same binary.
const NODE = existsSync(resolve(ROOT, 'dist/sea/node')) ? resolve(ROOT, 'dist/sea/node') : resolve(ROOT, 'node_modules/.bin/node');
const SECTIONS = ['size', 'cni', 'profile', 'burst', 'daemon'] as const;

function options(argv: readonly string[]) {
  const flag = (name: string, dflt: number) => {
    const v = argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${v}`);
    return n;
  };
  const named = argv.filter((a) => !a.startsWith('--'));
  for (const s of named)
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`no section ${s}; there are ${SECTIONS.join(', ')}`);
  return {
    sections: named.length > 0 ? named : [...SECTIONS],
    cycles: flag('cycles', 40),
    idle: flag('idle', 60),
    burst: flag('burst', 50),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
  if (!existsSync(WEFT)) throw new Error('no dist/weft: run npm run bundle first');
  const o = options(process.argv.slice(2));
  const tag = Math.random().toString(36).slice(2, 6);
  console.log(`weft footprint (${new Date().toISOString().slice(0, 10)}, ${o.sections.join(', ')})\n`);
  for (const s of o.sections) {
    if (s === 'size') console.log(`${table(sizeRows(ROOT))}\n`);
    if (s === 'cni') console.log(`${cniTable(await measureCni({ weft: WEFT, node: NODE, cycles: o.cycles, tag }))}\n`);
    if (s === 'burst') console.log(`${table(await measureBurst({ weft: WEFT, n: o.burst, rounds: 3, tag }))}\n`);
    if (s === 'profile') console.log(`${table(profileAdd({ weft: WEFT, runs: 10, tag }))}\n`);
    if (s === 'daemon') {
      const d = await measureDaemon({ node: NODE, idle: o.idle });
      console.log(`${table(d.rows)}\n${d.named}\n`);
    }
  }
}

main().catch((e) => {
  console.error(`bench/footprint: ${(e as Error).message}`);
  process.exitCode = 1;
});
