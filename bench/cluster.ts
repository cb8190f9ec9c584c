/**
 * A simulated cluster for a benchmark (pkg/sim), with its namespaces and files under a per-run name, removed
 * by `stop()` and on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SimCluster } from '../pkg/sim/mod.ts';

/** The executable the simulated hosts run; WEFT_BENCH_BIN replaces it (a wrapper that profiles the daemon). */
export const WEFT = process.env.WEFT_BENCH_BIN ?? resolve(import.meta.dirname, '../dist/weft');
export const PREFIX = '/weft-bench/network';

export async function benchCluster(
  name: string,
  config?: object,
  o: { ipv6?: boolean } = {},
): Promise<{ c: SimCluster; stop: () => void }> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
  const dir = mkdtempSync(join(tmpdir(), `weft-bench-${name}-`));
  const tag = Math.random().toString(36).slice(2, 6);
  const c = await SimCluster.create({
    netnsPrefix: `weft-bench-${tag}-`,
    dir,
    etcdPrefix: PREFIX,
    bin: WEFT,
    ...(config && { config }),
    ...(o.ipv6 && { ipv6: true }),
  });
  const stop = () => {
    c.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  return { c, stop };
}
