/**
 * The weft CNI plugin: each verb parses its config once and hands it to the operation, over the attachment
 * core (pkg/attach). Each operation's module is imported when its verb runs; VERSION (the runtime's probe)
 * is answered by a bundle of its own (cmd/weft/cni-version.ts) and loads none of this.
 */
import { FLANNEL_DATA_DIR, flannelToWeft } from '../../flannel-compat/cni-conf.ts';
import { parseCniArgs } from '../cni/args.ts';
import { WeftError } from '../errors/mod.ts';
import type { CniPlugin, CniRequest } from '../cni/dispatch.ts';
import { parseAttachConfig } from '../attach/mod.ts';
import type { AttachContext } from './context.ts';

/** A `type: "flannel"` config (weft installed as flannel's plugin) is mapped onto weft's first. */
function weftConfig(config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (config.type !== 'flannel') return config;
  const mapped = flannelToWeft(config);
  if (!mapped.ok) throw new WeftError('WEFT_INVALID_CONFIG', `flannel config: ${mapped.reason}`);
  return mapped.value;
}

function context(req: CniRequest, lenient = false): AttachContext {
  const args = parseCniArgs(req.env.args, { lenient });
  return { cfg: parseAttachConfig(weftConfig(req.config), args, { lenient }), env: req.env, version: req.version };
}

export const weftPlugin: CniPlugin = {
  add: async (req) => (await import('./add.ts')).addAttachment(context(req)),
  // DEL must not fail over settings it does not use (a bad "dns" block would otherwise strand a container).
  del: async (req) => {
    const ctx = context(req, true);
    const [{ delAttachment }, { networkState }] = await Promise.all([import('./del.ts'), import('../contract/mod.ts')]);
    // A container the real flannel plugin attached before weft took over is deleted the way flannel would.
    if (req.config.type === 'flannel' && !networkState(ctx.cfg).records.read(req.env.containerID, req.env.ifname)) {
      const dir = typeof req.config.dataDir === 'string' ? req.config.dataDir : FLANNEL_DATA_DIR;
      if (await (await import('./flannel-legacy.ts')).delLegacyFlannel(req.env, dir)) return;
    }
    await delAttachment(ctx);
  },
  check: async (req) => (await import('./check.ts')).checkAttachment(context(req)),
  status: async (req) => (await import('./status.ts')).statusOf(context(req)),
  gc: async (req) => (await import('./gc.ts')).gcAttachments(context(req)),
};

export const ABOUT = "weft CNI plugin: a bridge per network on each host, addresses from the host's subnet, a VXLAN overlay between hosts";
