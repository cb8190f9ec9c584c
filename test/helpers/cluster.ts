/** A simulated cluster (pkg/sim) named for this test run, built from dist/weft, destroyed after the test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, type ClusterOptions } from '../../pkg/sim/mod.ts';
import { WEFT_BIN } from './cni.ts';
import { defer, deferOnFailure } from './netns.ts';
import { NETNS_PREFIX, RUN_ID } from './run-id.ts';

export interface TestClusterOptions extends Pick<ClusterOptions, 'etcd' | 'clientCert' | 'ipv6'> {
  readonly config?: object | string | null;
  readonly hosts?: number;
  readonly bin?: string;
  /** A directory made by the caller (with certificates in it, say); made and removed here otherwise. */
  readonly dir?: string;
}

export async function testCluster(tag: string, opts: TestClusterOptions = {}): Promise<SimCluster> {
  const dir = opts.dir ?? testDir(tag);
  const c = await SimCluster.create({
    netnsPrefix: `${NETNS_PREFIX}${tag}-`,
    dir,
    etcdPrefix: `/weft-test/${RUN_ID}/${tag}/network`,
    bin: opts.bin ?? WEFT_BIN,
    ...(opts.config !== undefined && { config: opts.config }),
    ...(opts.etcd && { etcd: opts.etcd }),
    ...(opts.clientCert && { clientCert: opts.clientCert }),
    ...(opts.ipv6 && { ipv6: true }),
  });
  defer(() => c.destroy());
  // A failure in a multi-process test is only diagnosable with the daemons' side of the story.
  deferOnFailure(() => {
    for (const d of c.daemons) {
      if (!d) continue;
      console.error(`--- ${d.host.name}: daemon ${d.status}; last lines of its log:\n${d.log().split('\n').slice(-40).join('\n')}`);
    }
  });
  for (let i = 1; i <= (opts.hosts ?? 0); i++) await c.addHost(i);
  return c;
}

/** A temporary directory named for this run, removed after the test. */
export function testDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `weft-t-${RUN_ID}-${tag}-`));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
