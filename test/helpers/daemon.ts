/** `weft daemon` from dist/weft in a simulated host (pkg/sim), killed after the test. */
import { SimDaemon, waitFor, type SimHost } from '../../pkg/sim/mod.ts';
import { WEFT_BIN } from './cni.ts';
import { defer } from './netns.ts';

export function testDaemon(host: SimHost, dir: string, args: readonly string[]): SimDaemon {
  const d = new SimDaemon(host, { dir, bin: WEFT_BIN, args });
  defer(() => d.kill());
  return d;
}

/** Polls `check` until it gives a value; the failure names what was awaited. */
export const eventually = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> => waitFor(what, check, ms, 100);
