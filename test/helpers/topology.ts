/** The product's simulated topology (pkg/sim), named for this test run and destroyed after each test. */
import { Sim } from '../../pkg/sim/mod.ts';
import { defer } from './netns.ts';
import { NETNS_PREFIX } from './run-id.ts';

export function makeSim(tag: string): Sim {
  const sim = new Sim(`${NETNS_PREFIX}${tag}-`);
  defer(() => sim.destroy());
  return sim;
}
