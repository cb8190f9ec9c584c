import { waitFor } from '../../pkg/sim/mod.ts';

/** Polls `check` until it gives a value; the failure names what was awaited. */
export const eventually = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> =>
  waitFor(what, check, ms, 100);
