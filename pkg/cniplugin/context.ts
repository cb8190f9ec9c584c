/** Everything a verb needs about one invocation, parsed once. */
import type { CniEnv } from '../cni/env.ts';
import type { CniVersion } from '../cni/versions.ts';
import type { AttachConfig } from '../attach/mod.ts';

export interface AttachContext {
  readonly cfg: AttachConfig;
  readonly env: CniEnv;
  readonly version: CniVersion;
}
