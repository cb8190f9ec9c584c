/**
 * flannel's Kubernetes-mode node annotations (`--kube-annotation-prefix`, default flannel.alpha.coreos.com),
 * which take the place of the etcd lease value: backend-type, backend-data (the lease's BackendData JSON),
 * public-ip, and kube-subnet-manager ("true"; nodes without it are ignored, as flannel ignores them); on a
 * dual-stack network also backend-v6-data and public-ipv6 (public-ipv6-overwrite as public-ip-overwrite). A
 * pure codec, decoding through the lease-value codec so both modes accept exactly the same data.
 */
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { decodeLeaseAttrs, type LeaseAttrs, type VxlanData } from './lease-attrs.ts';

export const DEFAULT_ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';

const key = (prefix: string, name: string) => `${prefix}/${name}`;

/** What this node publishes about itself. */
const data = (d: VxlanData) => `{"VNI":${d.vni},"VtepMAC":${JSON.stringify(d.vtepMac)}}`;

export function nodeAnnotations(
  prefix: string,
  a: { publicIP: string; vxlan: VxlanData; publicIPv6?: string | undefined; vxlanV6?: VxlanData | undefined },
): Record<string, string> {
  return {
    [key(prefix, 'backend-type')]: 'vxlan',
    [key(prefix, 'backend-data')]: data(a.vxlan),
    ...(a.vxlanV6 && { [key(prefix, 'backend-v6-data')]: data(a.vxlanV6) }),
    [key(prefix, 'public-ip')]: a.publicIP,
    ...(a.publicIPv6 && { [key(prefix, 'public-ipv6')]: a.publicIPv6 }),
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
  const publicIPv6 = annotations[key(prefix, 'public-ipv6-overwrite')] || annotations[key(prefix, 'public-ipv6')];
  const data6 = annotations[key(prefix, 'backend-v6-data')];
  let parsed6: unknown;
  if (data6 !== undefined && publicIPv6) {
    try {
      parsed6 = JSON.parse(data6);
    } catch {
      return fail(`annotation ${key(prefix, 'backend-v6-data')} is not JSON`);
    }
  }
  // The same JSON an etcd lease carries, so one decoder checks both.
  return decodeLeaseAttrs(
    JSON.stringify({
      PublicIP: publicIP,
      ...(parsed6 !== undefined && { PublicIPv6: publicIPv6 }),
      BackendType: 'vxlan',
      BackendData: parsed,
      ...(parsed6 !== undefined && { BackendV6Data: parsed6 }),
    }),
  );
}
