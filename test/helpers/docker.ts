/**
 * Simulated hosts with a real dockerd each (pkg/lab/docker.ts) and a weft daemon serving Docker's plugin API
 * to it; dockerds are removed (containers, data, processes) after the test, before the daemons stop.
 */
import { join } from 'node:path';
import { DOCKER_DNS_ADDRESS } from '../../pkg/defaults.ts';
import { SimDocker } from '../../pkg/lab/docker.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { testCluster, testDir } from './cluster.ts';
import { defer, deferOnFailure } from './netns.ts';
import { RUN_ID } from './run-id.ts';

export interface DockerCluster {
  readonly c: SimCluster;
  /** Host n's dockerd is docker[n - 1]. */
  readonly docker: readonly SimDocker[];
}

export async function dockerCluster(tag: string, hosts: number): Promise<DockerCluster> {
  const c = await testCluster(tag);
  const dir = testDir(`${tag}-dk`);
  const docker: SimDocker[] = [];
  for (let n = 1; n <= hosts; n++) {
    const d = join(dir, `h${n}`);
    const pluginSocket = join(d, 'run/plugins/weft.sock');
    await c.addHost(n, ['--docker', `--docker-plugin-socket=${pluginSocket}`, `--docker-host=unix://${join(d, 'docker.sock')}`]);
    const sd = new SimDocker(d, c.hosts[n - 1]!.path, `${RUN_ID}${tag}${n}`, DOCKER_DNS_ADDRESS);
    docker.push(sd);
    defer(() => sd.destroy());
  }
  deferOnFailure(() => {
    for (const [i, d] of docker.entries()) console.error(`--- dockerd of h${i + 1}:\n${d.run(['ps', '-a']).stdout}\n${d.log()}`);
  });
  for (const d of docker) d.start();
  await c.startAll();
  await Promise.all(docker.map((d) => d.ready()));
  return { c, docker };
}
