/** The simulated cluster's etcd (pkg/sim), with its data in a per-test directory removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimEtcd, type Sim } from '../../pkg/sim/mod.ts';
import { defer } from './netns.ts';
import { RUN_ID } from './run-id.ts';

export async function startEtcd(sim: Sim): Promise<SimEtcd> {
  const dir = mkdtempSync(join(tmpdir(), `weft-t-${RUN_ID}-etcd-`));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const e = await SimEtcd.start(sim, dir);
  defer(() => e.close());
  return e;
}
