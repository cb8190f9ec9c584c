/**
 * Where a CNI ADD's time goes: dist/weft run as a runtime runs it (a new process in the host namespace), with
 * V8's sampling profiler on (`--cpu-prof` through NODE_OPTIONS, a sample every 200 us), after warm-up runs that
 * write the code cache. Each sample is charged to the first bucket its call stack matches, leaf first, so a netlink
 * call made while loading is charged to the netlink bucket. The profile starts once Node's own start-up has
 * begun, so its span is less than the whole invocation; the rest is in the cni section's `node -e 0`. The
 * profiler slows what it watches (every function V8 compiles or loads is logged): the span is about twice the
 * ADD's unprofiled work, so read the shares, not the milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ms, summarize } from '../../pkg/measure/mod.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface Profile {
  readonly nodes: ReadonlyArray<{ id: number; callFrame: CallFrame; children?: number[] }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const WEFT_CODE = /(weft-cni\.cjs|loader\.cjs)$/;
const NETLINK = /^(#?call|request|#?send|#?receive|encode\w*|decode\w*|parse|nested)$/;
const FILES = /^(writeFileAtomic|overwriteInPlace|createExclusive|readIfExists|listDir|writeTemp|ensureDir)$/;

// Leaf-first: the first bucket any frame of the stack matches.
const BUCKETS: ReadonlyArray<[string, (f: CallFrame) => boolean]> = [
  ['waiting (event loop idle)', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['netlink: encode, send, receive, decode', (f) => NETLINK.test(f.functionName) && WEFT_CODE.test(f.url)],
  ['native addons loaded (koffi, netlink: dlopen)', (f) => /^(dlopen|loadKoffi|loadLibc|loadNetlink)$/.test(f.functionName)],
  ['the bundle compiled from its code cache (vm.Script)', (f) => f.functionName === 'Script' && f.url === 'node:vm'],
  ['state files (records, reservations, subnet.env)', (f) => FILES.test(f.functionName) && WEFT_CODE.test(f.url)],
  ["weft's JavaScript (config, plan, result)", (f) => WEFT_CODE.test(f.url)],
];
const NODE_BUCKET = "Node's bootstrap and built-in modules";
const NATIVE_BUCKET = 'V8 and Node native code (program)';

function charge(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<string, number>();
  let started = false;
  let span = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // The profiler's own start-up shows as ~20 ms of idle before the first sample of work: not the ADD's.
    started ||= byId.get(p.samples[i]!)!.callFrame.functionName !== '(idle)';
    if (!started) continue;
    span += p.timeDeltas[i]! / 1000;
    const frames: CallFrame[] = [];
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) frames.push(byId.get(id)!.callFrame);
    const bucket =
      BUCKETS.find(([, match]) => frames.some(match))?.[0] ?? (frames[0]!.functionName === '(program)' ? NATIVE_BUCKET : NODE_BUCKET);
    out.set(bucket, (out.get(bucket) ?? 0) + p.timeDeltas[i]! / 1000);
  }
  out.set('profile span', span);
  return out;
}

export function profileAdd(o: { weft: string; runs: number; tag: string }): string[][] {
  const [host, cont] = [`weft-bench-${o.tag}-phost`, `weft-bench-${o.tag}-pcont`];
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-prof-'));
  try {
    for (const ns of [host, cont]) if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) throw new Error(`ip netns add ${ns} failed`);
    writeFileSync(
      join(dir, 'subnet.env'),
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
    );
    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'prof',
      type: 'weft',
      subnetFile: join(dir, 'subnet.env'),
      dataDir: join(dir, 'd'),
    });
    const run = (verb: string, id: string, nodeOptions = '') => {
      const r = spawnSync('nsenter', [`--net=/run/netns/${host}`, o.weft], {
        input: conf,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          NODE_OPTIONS: nodeOptions,
          CNI_COMMAND: verb,
          CNI_CONTAINERID: id,
          CNI_NETNS: `/run/netns/${cont}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
        },
      });
      if (r.status !== 0) throw new Error(`weft ${verb} failed: ${r.stdout}${r.stderr}`);
    };
    const profiles = join(dir, 'profiles');
    for (let i = -3; i < o.runs; i++) {
      run('ADD', `p${i + 3}`, i < 0 ? '' : `--cpu-prof --cpu-prof-dir=${profiles} --cpu-prof-interval=200`);
      run('DEL', `p${i + 3}`);
    }
    const charged = readdirSync(profiles).map((f) => charge(JSON.parse(readFileSync(join(profiles, f), 'utf8')) as Profile));
    const names = [...new Set(charged.flatMap((m) => [...m.keys()]))].filter((n) => n !== 'profile span');
    const p50 = (name: string) => summarize(charged.map((m) => m.get(name) ?? 0)).p50;
    const span = p50('profile span');
    return [
      [`CNI ADD under --cpu-prof, p50 of ${o.runs} runs`, 'time', 'share'],
      ...names.sort((a, b) => p50(b) - p50(a)).map((n) => [n, ms(p50(n)), `${((100 * p50(n)) / span).toFixed(0)}%`]),
      ['profiled span (from early in Node start-up to exit)', ms(span), '100%'],
    ];
  } finally {
    for (const ns of [host, cont]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
