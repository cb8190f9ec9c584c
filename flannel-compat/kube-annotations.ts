/**
 * flannel's Kubernetes-mode node annotations (`--kube-annotation-prefix`, default flannel.alpha.coreos.com),
 * which take the place of the etcd lease value: backend-type, backend-data (the lease's BackendData JSON),
 * public-ip, and kube-subnet-manager ("true"; nodes without it are ignored, as flannel ignores them). A pure
 * codec, decoding through the lease-value codec so both modes accept exactly the same data.
 */
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { decodeLeaseAttrs, type LeaseAttrs, type VxlanData } from './lease-attrs.ts';

export const DEFAULT_ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';

const key = (prefix: string, name: string) => `${prefix}/${name}`;

/** What this node publishes about itself. */
export function nodeAnnotations(prefix: string, a: { publicIP: string; vxlan: VxlanData }): Record<string, string> {
  return {
    [key(prefix, 'backend-type')]: 'vxlan',
    [key(prefix, 'backend-data')]: `{"VNI":${a.vxlan.vni},"VtepMAC":${JSON.stringify(a.vxlan.vtepMac)}}`,
    [key(prefix, 'public-ip')]: a.publicIP,
    [key(prefix, 'kube-subnet-manager')]: 'true',
  };
}

/**
 * A node's lease attributes; `unmanaged` for a node no flannel-compatible manager has claimed (skipped
 * silently), an error for a claimed node whose annotations do not decode (logged and skipped).
 */
export function leaseAttrsOfNode(
  prefix: string,
  annotations: Readonly<Record<string, string>>,
): Result<LeaseAttrs> | { readonly ok: false; readonly unmanaged: true } {
  if (annotations[key(prefix, 'kube-subnet-manager')] !== 'true') return { ok: false, unmanaged: true };
  const overwrite = annotations[key(prefix, 'public-ip-overwrite')];
  const publicIP = overwrite || annotations[key(prefix, 'public-ip')];
  const backendType = annotations[key(prefix, 'backend-type')];
  const data = annotations[key(prefix, 'backend-data')];
  if (!publicIP) return fail(`annotation ${key(prefix, 'public-ip')} is missing`);
  if (backendType !== 'vxlan')
    return ok({ publicIP, publicIPv6: undefined, backendType: backendType ?? '', vxlan: undefined, vxlanV6: undefined });
  if (data === undefined) return fail(`annotation ${key(prefix, 'backend-data')} is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return fail(`annotation ${key(prefix, 'backend-data')} is not a JSON object`);
  // The same JSON an etcd lease carries, so one decoder checks both.
  return decodeLeaseAttrs(JSON.stringify({ PublicIP: publicIP, BackendType: 'vxlan', BackendData: parsed }));
}
