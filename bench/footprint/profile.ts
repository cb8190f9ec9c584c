import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, summarize, timeCni } from '../../pkg/measure/mod.ts';
import { benchHost } from './bench-host.ts';

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
  const b = benchHost(o.tag, 'prof', 1);
  const [hostNs, contNs] = [`/run/netns/${b.host}`, `/run/netns/${b.containers[0]!}`];
  try {
    const weft = b.weft(o.weft);
    const run = (verb: 'ADD' | 'DEL', id: string, nodeOptions = '') =>
      timeCni(weft, hostNs, verb, id, contNs, [], { NODE_OPTIONS: nodeOptions });
    const profiles = join(b.dir, 'profiles');
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
    b.remove();
  }
}
