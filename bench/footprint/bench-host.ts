/**
 * The simulated host the CNI sections run on: a host namespace and container namespaces (per-run names), a
 * directory with the subnet file the daemon would write, and weft's plugin config pointing at it. `remove()`
 * takes all of it away again.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TimedPlugin } from '../../pkg/measure/mod.ts';

export interface BenchHost {
  /** The host namespace's name, and each container namespace's. */
  readonly host: string;
  readonly containers: readonly string[];
  readonly dir: string;
  /** weft as a runtime would run it on this host. */
  weft(bin: string): TimedPlugin;
  remove(): void;
}

export function benchHost(tag: string, section: string, containers: number): BenchHost {
  const host = `weft-bench-${tag}-${section}h`;
  const conts = Array.from({ length: containers }, (_, i) => `weft-bench-${tag}-${section}c${i}`);
  const dir = mkdtempSync(join(tmpdir(), `weft-bench-${section}-`));
  const remove = () => {
    for (const ns of [host, ...conts]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of [host, ...conts]) if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) throw new Error(`ip netns add ${ns} failed`);
    writeFileSync(
      join(dir, 'subnet.env'),
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
    );
  } catch (e) {
    remove();
    throw e;
  }
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench',
    type: 'weft',
    subnetFile: join(dir, 'subnet.env'),
    dataDir: join(dir, 'weft'),
  });
  return { host, containers: conts, dir, weft: (bin) => ({ name: 'weft', bin, conf }), remove };
}
