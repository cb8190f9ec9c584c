/**
 * A lease's value: flannel's LeaseAttrs with the vxlan backend's data, written byte for byte as flanneld
 * writes it (Go's struct order, compact JSON, `PublicIPv6` null when absent, lowercase colon MAC):
 *
 *   {"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}
 *
 * and read the way flanneld reads it: keys in any case, any MAC form Go's net.ParseMAC takes.
 */
import { canonicalIP, parseIP } from '../pkg/netaddr/ip.ts';
import { canonicalMac } from '../pkg/netaddr/mac.ts';
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { field, isObject, parseObject } from './json-ci.ts';

export interface VxlanData {
  readonly vni: number;
  readonly vtepMac: string;
}

export interface LeaseAttrs {
  readonly publicIP: string;
  readonly publicIPv6: string | undefined;
  /** "vxlan" for weft and flannel's vxlan backend; peers of other types are not programmed. */
  readonly backendType: string;
  /** The vxlan data, when BackendType is vxlan and the data decodes. */
  readonly vxlan: VxlanData | undefined;
  readonly vxlanV6: VxlanData | undefined;
}

export function encodeLeaseAttrs(a: { publicIP: string; publicIPv6?: string; vxlan: VxlanData; vxlanV6?: VxlanData }): string {
  const data = (d: VxlanData) => `{"VNI":${d.vni},"VtepMAC":${JSON.stringify(d.vtepMac)}}`;
  return (
    `{"PublicIP":${JSON.stringify(a.publicIP)},"PublicIPv6":${a.publicIPv6 === undefined ? 'null' : JSON.stringify(a.publicIPv6)},` +
    `"BackendType":"vxlan","BackendData":${data(a.vxlan)}${a.vxlanV6 ? `,"BackendV6Data":${data(a.vxlanV6)}` : ''}}`
  );
}

function vxlanData(v: unknown, what: string): Result<VxlanData> {
  if (!isObject(v)) return fail(`${what} is not an object`);
  const vni = field(v, 'VNI');
  const mac = field(v, 'VtepMAC');
  if (typeof vni !== 'number' || !Number.isInteger(vni) || vni < 0 || vni > 0xffffff) return fail(`${what}.VNI is not a VNI`);
  const vtepMac = typeof mac === 'string' ? canonicalMac(mac) : undefined;
  if (!vtepMac) return fail(`${what}.VtepMAC ${JSON.stringify(mac)} is not a MAC address`);
  return ok({ vni, vtepMac });
}

export function decodeLeaseAttrs(text: string): Result<LeaseAttrs> {
  const parsed = parseObject(text);
  if (!parsed.ok) return fail(`lease value is ${parsed.reason}`);
  const o = parsed.value;
  const pub = field(o, 'PublicIP');
  const pub4 = typeof pub === 'string' ? parseIP(pub) : undefined;
  if (pub4?.family !== 4) return fail(`PublicIP ${JSON.stringify(pub)} is not an IPv4 address`);
  const pub6raw = field(o, 'PublicIPv6');
  let publicIPv6: string | undefined;
  if (pub6raw !== undefined && pub6raw !== null) {
    if (typeof pub6raw !== 'string' || parseIP(pub6raw)?.family !== 6)
      return fail(`PublicIPv6 ${JSON.stringify(pub6raw)} is not an IPv6 address`);
    publicIPv6 = canonicalIP(pub6raw);
  }
  const bt = field(o, 'BackendType');
  const backendType = typeof bt === 'string' ? bt : '';
  let vxlan: VxlanData | undefined;
  let vxlanV6: VxlanData | undefined;
  if (backendType === 'vxlan') {
    const d = vxlanData(field(o, 'BackendData'), 'BackendData');
    if (!d.ok) return d;
    vxlan = d.value;
    const d6raw = field(o, 'BackendV6Data');
    if (d6raw !== undefined && d6raw !== null) {
      const d6 = vxlanData(d6raw, 'BackendV6Data');
      if (!d6.ok) return d6;
      vxlanV6 = d6.value;
    }
  }
  return ok({ publicIP: canonicalIP(pub as string)!, publicIPv6, backendType, vxlan, vxlanV6 });
}
