/**
 * DEL of a container the real flannel CNI plugin attached before weft replaced it on this host. flannel saved
 * the delegate config it used (bridge + host-local) at `<flannel dataDir>/<containerID>`; as flannel itself
 * would, weft runs that delegate's DEL with the saved config, so the old container's host-local address is
 * released, then removes the file. Only for `type: "flannel"` configs, and only when weft has no record. The
 * delegate runs through weft's CNI runtime (pkg/cni/runtime.ts), with this invocation's own environment.
 */
import { join } from 'node:path';
import { WeftError } from '../errors/mod.ts';
import { readIfExists, removeIfExists } from '../files/mod.ts';
import type { CniEnv } from '../cni/env.ts';
import { execPlugin } from '../cni/runtime.ts';

export async function delLegacyFlannel(env: CniEnv, flannelDataDir: string): Promise<boolean> {
  const file = join(flannelDataDir, env.containerID);
  const saved = readIfExists(file);
  if (saved === undefined) return false;
  let type: unknown;
  try {
    type = (JSON.parse(saved) as { type?: unknown }).type;
  } catch {
    removeIfExists(file); // flannel too drops a state file it cannot parse
    return true;
  }
  const dirs = env.path.split(':').filter(Boolean);
  const fs = process.getBuiltinModule('node:fs');
  const bin = typeof type === 'string' && !type.includes('/') ? dirs.map((d) => join(d, type)).find((p) => fs.existsSync(p)) : undefined;
  if (!bin)
    throw new WeftError(
      'WEFT_INVALID_ENV',
      `cannot find flannel's delegate plugin ${JSON.stringify(type)} in CNI_PATH ${env.path} to delete container ${env.containerID}`,
    );
  const own = Object.entries(process.env).filter((kv): kv is [string, string] => kv[1] !== undefined);
  const r = await execPlugin(bin, [], { input: saved, env: { ...Object.fromEntries(own), CNI_COMMAND: 'DEL' } });
  if (r.status !== 0)
    throw new WeftError(
      'WEFT_INTERNAL',
      `flannel's delegate ${String(type)} failed to delete container ${env.containerID}: ` +
        (r.stdout.trim() || r.stderr.trim() || r.error?.message || `exit ${r.status ?? r.signal}`),
    );
  removeIfExists(file);
  return true;
}
