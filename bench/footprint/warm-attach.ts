/**
 * ADD and DEL run again and again in one process (started by bench/footprint/cni.ts inside the benchmark's
 * host namespace): what an attachment costs once the code is loaded, compiled and warm. A daemon doing the
 * plugin's work for it (the "delegated fast path") would pay this plus a socket round trip, and no less.
 *
 *   node bench/footprint/warm-attach.ts CONFIG-JSON CONTAINER-NETNS CYCLES   -> {"add":[ms...],"del":[ms...]}
 */
import { performance } from 'node:perf_hooks';
import { weftPlugin } from '../../pkg/cniplugin/mod.ts';
import { readEnv } from '../../pkg/cni/env.ts';

const [configJson, netns, cycles] = process.argv.slice(2) as [string, string, string];
const config = JSON.parse(configJson) as Record<string, unknown>;
const env = (command: 'ADD' | 'DEL', id: string) =>
  readEnv(command, { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' });
const out = { add: [] as number[], del: [] as number[] };
for (let i = -5; i < Number(cycles); i++) {
  const id = `warm-${i + 5}`;
  const t0 = performance.now();
  await weftPlugin.add({ env: env('ADD', id), version: '1.0.0', config });
  const t1 = performance.now();
  await weftPlugin.del({ env: env('DEL', id), version: '1.0.0', config });
  if (i >= 0) out.add.push(t1 - t0);
  if (i >= 0) out.del.push(performance.now() - t1);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
