/** The weft CNI plugin: each verb parses its config once and hands it to the operation. */
import { parseCniArgs } from '../cni/args.ts';
import type { CniPlugin, CniRequest } from '../cni/dispatch.ts';
import { addAttachment } from './add.ts';
import { checkAttachment } from './check.ts';
import { parseAttachConfig } from './config.ts';
import type { AttachContext } from './context.ts';
import { delAttachment } from './del.ts';
import { gcAttachments } from './gc.ts';
import { statusOf } from './status.ts';

function context(req: CniRequest, lenient = false): AttachContext {
  const args = parseCniArgs(req.env.args, { lenient });
  return { cfg: parseAttachConfig(req.config, args, { lenient }), env: req.env, version: req.version };
}

export const weftPlugin: CniPlugin = {
  add: (req) => addAttachment(context(req)),
  // DEL must not fail over settings it does not use (a bad "dns" block would otherwise strand a container).
  del: (req) => delAttachment(context(req, true)),
  check: (req) => checkAttachment(context(req)),
  status: (req) => statusOf(context(req)),
  gc: (req) => gcAttachments(context(req)),
};

export const ABOUT = 'weft CNI plugin: a bridge per network on each host, addresses from the host\'s subnet, a VXLAN overlay between hosts';
