/**
 * CNI start-up and the work above it: each invocation a new process started inside a host namespace with
 * nsenter, as a runtime starts it, for weft as it ships (dist/weft) and for Debian's bridge + host-local doing
 * the same job (a bridge with a gateway, a veth, an address from a /24, a default route). Every cycle runs
 * ADD, DEL and VERSION of both, and `node -e 0` with the same Node, in alternating order, so machine noise
 * hits all alike. The figures that matter are differences taken within a cycle, then their median:
 *
 *   VERSION - node -e 0   what weft adds to Node's own start-up;
 *   ADD - VERSION         the work of an ADD beyond starting up (and DEL likewise).
 *
 * Also per cycle, in this (warm) process: the kernel's part alone, the same veth, address and route made and
 * deleted through weft's kernel layer. No plugin's ADD or DEL can take less; DEL's share is mostly the
 * kernel waiting out an RCU grace period before it frees the veth pair. And once, after the cycles: weft's
 * ADD and DEL repeated in one warm process (bench/footprint/warm-attach.ts), the floor of a fast path that
 * would hand the work to the running daemon.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Netlink, openNetns } from '../../pkg/kernel/mod.ts';
import { benchHost } from './bench-host.ts';
import { ms, referencePlugin, summarize, table, timeCni, type TimedPlugin } from '../../pkg/measure/mod.ts';

export interface CniFigures {
  readonly rows: string[][];
  readonly notes: string[];
}

type Verb = 'ADD' | 'DEL' | 'VERSION';

const median = (xs: readonly number[]) => summarize(xs).p50;

/** One attachment's kernel work through weft's kernel layer in a warm process: make, then delete. */
async function kernelFloor(hostPath: string, contPath: string): Promise<{ add: number; del: number }> {
  const [hostNs, contNs] = [openNetns(hostPath), openNetns(contPath)];
  const [host, cont] = [Netlink.open({ netns: hostNs }), Netlink.open({ netns: contNs })];
  try {
    const t0 = performance.now();
    const veth = await host.addVeth({ name: 'vfloor0', mtu: 1450, peer: { name: 'eth9', netns: contNs, mtu: 1450 } });
    await host.setLink({ index: veth.index, up: true });
    const inner = await cont.getLink('eth9');
    await cont.addAddr({ index: inner.index, cidr: '10.98.0.2/24' });
    await cont.setUp(inner.index);
    await cont.addRoute({ dst: '0.0.0.0/0', gateway: '10.98.0.1', oif: inner.index });
    const t1 = performance.now();
    await host.deleteLink(veth.index);
    return { add: t1 - t0, del: performance.now() - t1 };
  } finally {
    host.close();
    cont.close();
    hostNs.close();
    contNs.close();
  }
}

function warmAttach(hostPath: string, contPath: string, conf: string, cycles: number): { add: number[]; del: number[] } {
  const script = join(import.meta.dirname, 'warm-attach.ts');
  const r = spawnSync('nsenter', [`--net=${hostPath}`, process.execPath, script, conf, contPath, String(cycles)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`warm ADD/DEL failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { add: number[]; del: number[] };
}

export async function measureCni(o: { weft: string; node: string; cycles: number; tag: string }): Promise<CniFigures> {
  const b = benchHost(o.tag, 'cni', 1);
  const [host, cont, dir] = [b.host, b.containers[0]!, b.dir];
  try {
    const weft = b.weft(o.weft);
    const empty = join(dir, 'empty.js');
    writeFileSync(empty, '');
    const ref = referencePlugin('cni1', '10.99.0.0/24', join(dir, 'host-local'));
    const invoke = (p: TimedPlugin, verb: Verb, cid: string, extra: string[] = []) =>
      timeCni(p, `/run/netns/${host}`, verb, cid, `/run/netns/${cont}`, extra);
    const t = new Map<string, number[]>();
    const put = (k: string, v: number) => t.set(k, [...(t.get(k) ?? []), v]);
    for (let i = -3; i < o.cycles; i++) {
      const cid = `c${i + 3}`;
      const one = (p: TimedPlugin) => ({ add: invoke(p, 'ADD', cid), del: invoke(p, 'DEL', cid), version: invoke(p, 'VERSION', 'v') });
      const got: { weft?: ReturnType<typeof one>; ref?: ReturnType<typeof one>; node?: number; file?: number } = {};
      const steps = [
        () => (got.weft = one(weft)),
        () => (got.ref = one(ref)),
        () => (got.node = invoke({ name: 'node -e 0', bin: o.node, conf: '' }, 'VERSION', 'x', ['-e', '0'])),
        () => (got.file = invoke({ name: 'node empty.js', bin: o.node, conf: '' }, 'VERSION', 'x', [empty])),
      ];
      // Alternate the order, so that whatever runs first in a cycle is not always the same one.
      for (const step of i % 2 === 0 ? steps : steps.reverse()) step();
      const [w, r, f] = [got.weft!, got.ref!, got.node!];
      const k = await kernelFloor(`/run/netns/${host}`, `/run/netns/${cont}`);
      if (i < 0) continue; // warm-up
      for (const [name, x] of [
        ['weft', w],
        ['ref', r],
      ] as const) {
        put(`${name} ADD`, x.add);
        put(`${name} DEL`, x.del);
        put(`${name} VERSION`, x.version);
        put(`${name} ADD-VERSION`, x.add - x.version);
        put(`${name} DEL-VERSION`, x.del - x.version);
        put(`${name} ADD+DEL`, x.add + x.del);
      }
      put('kernel ADD', k.add);
      put('kernel DEL', k.del);
      put('node', f);
      put('node file', got.file!);
      put('weft VERSION-node', w.version - f);
    }
    const warm = warmAttach(`/run/netns/${host}`, `/run/netns/${cont}`, weft.conf, o.cycles);
    t.set('warm ADD', warm.add);
    t.set('warm DEL', warm.del);
    const p50 = (k: string) => ms(median(t.get(k)!));
    const rows = [
      ['CNI, p50 of each cycle', 'weft', 'bridge+host-local', 'goal'],
      ['start-up: VERSION', p50('weft VERSION'), p50('ref VERSION'), ''],
      ['start-up: node -e 0 (same Node)', p50('node'), '', ''],
      ['start-up: node empty.js (same Node)', p50('node file'), '', ''],
      ['VERSION - node -e 0', p50('weft VERSION-node'), '', '<= 2 ms'],
      ['ADD', p50('weft ADD'), p50('ref ADD'), ''],
      ['DEL', p50('weft DEL'), p50('ref DEL'), ''],
      ['ADD - VERSION (the work)', p50('weft ADD-VERSION'), p50('ref ADD-VERSION'), '<= 10 ms'],
      ['  of which the kernel alone (warm, in-process)', p50('kernel ADD'), '', ''],
      ['DEL - VERSION (the work)', p50('weft DEL-VERSION'), p50('ref DEL-VERSION'), '<= 10 ms'],
      ['  of which the kernel alone (warm, in-process)', p50('kernel DEL'), '', ''],
      ['ADD in a warm process (a delegated fast path, at best)', p50('warm ADD'), '', ''],
      ['DEL in a warm process', p50('warm DEL'), '', ''],
      ['ADD + DEL', p50('weft ADD+DEL'), p50('ref ADD+DEL'), ''],
    ];
    const ratio = median(t.get('weft ADD+DEL')!) / median(t.get('ref ADD+DEL')!);
    const bound = (2 * median(t.get('node')!)) / median(t.get('ref ADD+DEL')!);
    return {
      rows,
      notes: [
        `${o.cycles} cycles. ADD+DEL weft / reference: ${ratio.toFixed(2)}; ` +
          `two Node start-ups alone are ${bound.toFixed(2)} x the reference's ADD+DEL.`,
      ],
    };
  } finally {
    b.remove();
  }
}

export const cniTable = (f: CniFigures): string => `${table(f.rows)}\n${f.notes.join('\n')}`;
