/**
 * Root-tier preconditions, checked once: these suites need root, iproute2 and the kernel's veth, bridge and
 * vxlan drivers. Missing any is a failure, not a skip (CI must not go green by testing nothing). After the run,
 * anything of this run's that a crashed test left behind is removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETNS_PREFIX, RUN_ID } from './run-id.ts';

function sh(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('the root test tier must run as root (it creates network namespaces)');
  for (const tool of ['ip', 'bridge', 'ping', 'nsenter', 'nft']) {
    try {
      sh(['sh', '-c', `command -v ${tool}`]);
    } catch {
      throw new Error(`the root test tier needs "${tool}" (run scripts/setup.sh; see CONTRIBUTING.md)`);
    }
  }
  const probe = `${NETNS_PREFIX}probe`;
  sh(['ip', 'netns', 'add', probe]);
  try {
    for (const [name, kind] of [
      ['p0', 'veth'],
      ['p1', 'bridge'],
      ['p2', 'vxlan id 1 dstport 4789'],
    ] as const) {
      try {
        sh(['ip', '-n', probe, 'link', 'add', name, 'type', ...kind.split(' ')]);
      } catch (e) {
        throw new Error(`this kernel cannot create ${kind.split(' ')[0]} links: ${(e as Error).message}`);
      }
    }
  } finally {
    sh(['ip', 'netns', 'del', probe]);
  }
  process.env.WEFT_TEST_RUN = RUN_ID;
  // The suites drive what ships: build the single executable dist/weft once for the whole run.
  execFileSync(process.execPath, ['bundle/sea.ts'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function teardown(): void {
  const left = sh(['ip', 'netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
  for (const n of left) {
    try {
      sh(['ip', 'netns', 'del', n]);
    } catch {
      // keep going
    }
  }
  if (left.length > 0) process.stderr.write(`weft tests: removed ${left.length} namespace(s) left by a failed test: ${left.join(' ')}\n`);
  // A test worker that crashed ran no cleanup: its processes (etcd, daemons) and temporary directories.
  const tmp = `${tmpdir()}/${NETNS_PREFIX}`;
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(tmp)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
  for (const d of readdirSync(tmpdir())) if (d.startsWith(NETNS_PREFIX)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  // Per-namespace resolv.conf files (`ip netns exec` reads /etc/netns/<name>/) of this run.
  if (existsSync('/etc/netns'))
    for (const d of readdirSync('/etc/netns')) if (d.startsWith(NETNS_PREFIX)) rmSync(`/etc/netns/${d}`, { recursive: true, force: true });
}
