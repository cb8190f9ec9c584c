/**
 * DEL: best effort and idempotent (SPEC.md: "Plugins should generally complete a DEL action without error
 * even if some resources are missing"; "MUST accept multiple DEL calls"). It works from the record and the
 * attachment's identity alone: no namespace, no prevResult and no lease file needed, so it succeeds after a
 * reboot, after a failed or killed ADD, twice in a row, and after the config changed.
 */
import { Netlink } from '../kernel/mod.ts';
import type { AttachContext } from './context.ts';
import { networkState } from '../contract/mod.ts';
import { teardown } from '../contract/mod.ts';

export async function delAttachment(ctx: AttachContext): Promise<void> {
  const { cfg, env } = ctx;
  const state = networkState(cfg);
  const entry = state.records.read(env.containerID, env.ifname) ?? { containerID: env.containerID, ifname: env.ifname, record: undefined };
  const host = Netlink.open();
  try {
    await teardown(state, entry, host, cfg.network, cfg.daemonSocket);
  } finally {
    host.close();
  }
}
