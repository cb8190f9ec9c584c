/** Wires the CNI dispatcher to weft's plugin; the plugin's code loads only for verbs that need it. */
import { dispatch, processIo } from '../../pkg/cni/mod.ts';

export async function runPlugin(): Promise<number> {
  const { weftPlugin, ABOUT } = await import('../../pkg/cniplugin/mod.ts');
  return dispatch(processIo(), weftPlugin, ABOUT);
}
