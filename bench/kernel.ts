/**
 * Kernel-layer benchmark: one container attachment's kernel work (veth pair with the peer created in the
 * container namespace, an address, a route, then delete) done N times through weft's kernel layer and N
 * times with `ip` commands, in the same run, interleaved so machine noise hits both alike. Prints p50/p90
 * for each and the ratio (kernel layer / ip). Run as root: `npm run bench:kernel [-- N]`.
 *
 * Each kernel-layer cycle opens fresh sockets in both namespaces (a CNI invocation does exactly that); the
 * `ip` cycle pays a process start per step, which is what shelling out would cost the product.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Netlink, openNetns } from '../pkg/kernel/mod.ts';
import { ms, summarize, table } from '../pkg/measure/mod.ts';

const N = Number(process.argv[2] ?? 200);
const tag = Math.random().toString(36).slice(2, 6);
const HOST = `weft-bench-${tag}-host`;
const CONT = `weft-bench-${tag}-cont`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function cleanup(): void {
  for (const ns of [HOST, CONT]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

async function viaKernelLayer(): Promise<number> {
  const t0 = performance.now();
  const hostNs = openNetns(`/run/netns/${HOST}`);
  const contNs = openNetns(`/run/netns/${CONT}`);
  const host = Netlink.open({ netns: hostNs });
  const cont = Netlink.open({ netns: contNs });
  try {
    const veth = await host.addVeth({ name: 'vbench0', mtu: 1450, peer: { name: 'eth0', netns: contNs, mtu: 1450 } });
    const eth0 = await cont.getLink('eth0');
    await cont.addAddr({ index: eth0.index, cidr: '10.100.0.2/24' });
    await cont.setUp(eth0.index);
    await cont.addRoute({ dst: '10.200.0.0/16', gateway: '10.100.0.1' });
    await host.deleteLink(veth.index);
  } finally {
    host.close();
    cont.close();
    hostNs.close();
    contNs.close();
  }
  return performance.now() - t0;
}

function viaIp(): number {
  const t0 = performance.now();
  ip('-n', HOST, 'link', 'add', 'vbench0', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', CONT);
  ip('-n', CONT, 'addr', 'add', '10.100.0.2/24', 'dev', 'eth0');
  ip('-n', CONT, 'link', 'set', 'eth0', 'up');
  ip('-n', CONT, 'route', 'add', '10.200.0.0/16', 'via', '10.100.0.1');
  ip('-n', HOST, 'link', 'del', 'vbench0');
  return performance.now() - t0;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
  ip('netns', 'add', HOST);
  ip('netns', 'add', CONT);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await viaKernelLayer();
      viaIp();
    }
    for (let i = 0; i < N; i++) {
      ours.push(await viaKernelLayer());
      theirs.push(viaIp());
    }
  } finally {
    cleanup();
  }
  const a = summarize(ours);
  const b = summarize(theirs);
  console.log(`kernel-layer benchmark: veth into a namespace + address + route + delete, ${N} cycles each, interleaved\n`);
  console.log(
    table([
      ['method', 'p50', 'p90', 'mean'],
      ['weft kernel layer', ms(a.p50), ms(a.p90), ms(a.mean)],
      ['ip commands (5 per cycle)', ms(b.p50), ms(b.p90), ms(b.mean)],
    ]),
  );
  console.log(
    `\nratio weft/ip: p50 ${(a.p50 / b.p50).toFixed(3)}, p90 ${(a.p90 / b.p90).toFixed(3)}  (lower is better; < 1 means weft is faster)`,
  );
}

main().catch((e) => {
  cleanup();
  console.error(`bench/kernel: ${(e as Error).message}`);
  process.exitCode = 1;
});
