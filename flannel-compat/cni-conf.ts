/**
 * flannel's CNI config (flannel-io/cni-plugin), so an existing conflist keeps working when weft's binary is
 * installed as `flannel`:
 *
 *   {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
 *     {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}}, {"type": "portmap", ...}]}
 *
 * flannel builds a bridge + host-local delegate from subnet.env; weft is that delegate's equivalent, so the
 * mapping keeps the delegate's settings with the bridge plugin's defaults (hairpin and default gateway off
 * unless set; `ipMasq` unset meaning "only when the daemon does not", as flannel decides it).
 */
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { isObject, type JsonObject } from './json-ci.ts';

export const FLANNEL_DATA_DIR = '/var/lib/cni/flannel';

/** The weft plugin config equivalent to a `type: "flannel"` one. */
export function flannelToWeft(conf: JsonObject): Result<Record<string, unknown>> {
  const delegate = conf.delegate ?? {};
  if (!isObject(delegate)) return fail('"delegate" must be an object');
  if (delegate.type !== undefined && delegate.type !== 'bridge') {
    return fail(`flannel delegate type ${JSON.stringify(delegate.type)} is not supported; weft replaces the bridge delegate`);
  }
  if (delegate.name !== undefined) return fail('"delegate" must not contain "name" (flannel sets it)');
  if (delegate.ipam !== undefined) return fail('"delegate" must not contain "ipam" (flannel builds it from subnet.env)');
  const { type: _t, delegate: _d, ipam: _i, dataDir, ...rest } = conf;
  const pick = (k: string) => (delegate[k] !== undefined ? { [k]: delegate[k] } : {});
  return ok({
    ...rest,
    type: 'weft',
    network: '',
    ...(typeof dataDir === 'string' && dataDir !== FLANNEL_DATA_DIR && { dataDir }),
    hairpinMode: delegate.hairpinMode ?? false,
    isDefaultGateway: delegate.isDefaultGateway ?? false,
    ...pick('ipMasq'),
    ...pick('mtu'),
    ...pick('bridge'),
    ...pick('dns'),
  });
}
