/**
 * Throwaway named network namespaces for root tests. Each one is removed after the test that made it,
 * whether the test passed or failed; global-setup removes anything of this run that survives a crash.
 */
import { afterEach } from 'vitest';
import { openNetns, type Link, type Netlink, type Netns } from '../../pkg/kernel/mod.ts';
import { NETNS_PREFIX, RUN_ID } from './run-id.ts';
import { run, tryRun } from './sh.ts';

export interface TestNetns {
  readonly name: string;
  readonly path: string;
  /** An open handle for the product's kernel layer (closed on cleanup). */
  readonly ns: Netns;
}

const cleanups: Array<() => void> = [];
const onFailure: Array<() => void> = [];

// Registered when a test file imports this module (hooks added from inside a running test are ignored).
afterEach((ctx) => {
  const failures = onFailure.splice(0);
  if (ctx.task.result?.state === 'fail' || (ctx.task.result?.errors?.length ?? 0) > 0) for (const f of failures) f();
  for (const f of cleanups.splice(0).reverse()) {
    try {
      f();
    } catch {
      // Cleanup is best effort: one failure must not leave the rest behind.
    }
  }
});

/** Registers `fn` to run after the current test, in reverse order of registration. */
export function defer(fn: () => void): void {
  cleanups.push(fn);
}

/** Registers `fn` to run if the current test failed, before its cleanups (say, to print a daemon's log). */
export function deferOnFailure(fn: () => void): void {
  onFailure.push(fn);
}

/** Creates `weft-t-<run>-<tag>` with `lo` up; removed after the test. */
export function makeNetns(tag: string): TestNetns {
  const name = `${NETNS_PREFIX}${tag}`;
  run('ip', ['netns', 'add', name]);
  defer(() => {
    tryRun('ip', ['netns', 'del', name]);
  });
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const ns = openNetns(`/run/netns/${name}`);
  defer(() => ns.close());
  return { name, path: `/run/netns/${name}`, ns };
}

/**
 * A link that is up with carrier, to hang addresses and routes on (this kernel has no dummy driver):
 * one end of a veth pair whose other end stays in the same namespace.
 */
export async function addUplink(h: Netlink, name: string): Promise<Link> {
  const l = await h.addVeth({ name, peer: { name: `${name}p` } });
  await h.setUp(l.index);
  await h.setUp((await h.getLink(`${name}p`)).index);
  return h.getLink(name);
}

/** An interface name unique to this run: `<tag><run>` (tag up to 9 chars). */
export function ifname(tag: string): string {
  const n = `${tag}${RUN_ID}`;
  if (n.length > 15) throw new Error(`test interface name ${n} is too long`);
  return n;
}

/** Every named namespace this run created and has not removed. */
export function leftoverNetns(): string[] {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
}
