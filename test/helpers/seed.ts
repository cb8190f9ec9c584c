/**
 * One seed for every fast-check property that does not name its own, so a failure in CI replays on any
 * machine: `FC_SEED=<n> npm test` explores other runs (fast-check prints the seed and path of a failure).
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_261_207) });
