/**
 * The network config at `<prefix>/config`, read exactly as flanneld reads it (pkg/subnet ParseConfig, then
 * CheckNetworkConfig): EnableIPv4 defaults to true; SubnetLen defaults to 24 for networks of /22 or larger,
 * to prefix+2 up to /28, and anything smaller than /28 is refused; SubnetMin defaults to the second subnet
 * (the first is never used), SubnetMax to the last; both must lie in the network and on a SubnetLen boundary.
 * A missing `Backend` means flannel's "udp", so weft refuses it rather than guess vxlan.
 *
 *   {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}
 *     -> SubnetLen 24, SubnetMin 10.244.1.0, SubnetMax 10.244.255.0
 */
import { formatAddr, formatPrefix, parseAddr, parsePrefix, networkOf, containsIP, mask, type Prefix } from '../pkg/netaddr/cidr.ts';
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { field, isObject, parseObject, type JsonObject } from './json-ci.ts';
import { bitsOf, type Family } from '../pkg/netaddr/family.ts';

export interface FamilyConfig {
  /** The cluster network, canonical CIDR. */
  readonly network: string;
  readonly subnetLen: number;
  /** First and last subnet network addresses a host may lease. */
  readonly subnetMin: string;
  readonly subnetMax: string;
}

export interface NetworkConfig {
  readonly enableIPv4: boolean;
  readonly enableIPv6: boolean;
  readonly enableNFTables: boolean;
  readonly ipv4: FamilyConfig | undefined;
  readonly ipv6: FamilyConfig | undefined;
  /** Backend.Type, lower-cased ("udp" when Backend is absent, as flannel decides). */
  readonly backendType: string;
  /** The Backend object as written, for the backend to decode. */
  readonly backend: JsonObject;
}

function bool(o: JsonObject, name: string, dflt: boolean, problems: string[]): boolean {
  const v = field(o, name);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') problems.push(`${name} must be true or false`);
  return typeof v === 'boolean' ? v : dflt;
}

function uint(o: JsonObject, name: string, problems: string[]): number {
  const v = field(o, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    problems.push(`${name} must be a non-negative integer`);
    return 0;
  }
  return v;
}

function checkFamily(o: JsonObject, family: Family, problems: string[]): FamilyConfig | undefined {
  const [netKey, lenKey, minKey, maxKey] =
    family === 4 ? ['Network', 'SubnetLen', 'SubnetMin', 'SubnetMax'] : ['IPv6Network', 'IPv6SubnetLen', 'IPv6SubnetMin', 'IPv6SubnetMax'];
  const bits = bitsOf(family);

  const raw = field(o, netKey);
  const parsed = typeof raw === 'string' ? parsePrefix(raw) : undefined;
  if (!parsed?.ok || parsed.value.family !== family) {
    problems.push(
      family === 4
        ? 'please define a correct Network parameter in the flannel config'
        : 'please define a correct IPv6Network parameter in the flannel config',
    );
    return undefined;
  }
  const network: Prefix = networkOf(parsed.value);
  let subnetLen = uint(o, lenKey, problems);
  if (subnetLen > 0) {
    if (subnetLen > bits - 2) return void problems.push(`${family === 4 ? 'SubnetLen' : 'IPv6SubnetLen'} must be less than /${bits - 1}`);
    if (subnetLen < network.prefix + 2) return void problems.push('network must be able to accommodate at least four subnets');
  } else if (network.prefix > bits - 4) {
    return void problems.push(
      family === 4
        ? 'network is too small. Minimum useful network prefix is /28'
        : 'IPv6Network is too small. Minimum useful network prefix is /124',
    );
  } else {
    subnetLen = network.prefix <= (family === 4 ? 22 : 62) ? (family === 4 ? 24 : 64) : network.prefix + 2;
  }
  const size = 1n << BigInt(bits - subnetLen);
  const end = network.ip + (1n << BigInt(bits - network.prefix));
  const bound = (key: string, dflt: bigint): bigint | undefined => {
    const v = field(o, key);
    if (v === undefined || v === null || v === '') return dflt;
    const a = typeof v === 'string' ? parseAddr(v) : undefined;
    if (!a || a.family !== family) return void problems.push(`${key} must be an IPv${family} address`);
    if (!containsIP(network, family, a.ip)) return void problems.push(`${key} is not in the range of the ${netKey}`);
    if ((a.ip & mask(family, subnetLen)) !== a.ip) return void problems.push(`${key} is not on a SubnetLen boundary: ${v}`);
    return a.ip;
  };
  const min = bound(minKey, network.ip + size);
  const max = bound(maxKey, end - size);
  if (min === undefined || max === undefined) return undefined;
  return { network: formatPrefix(network), subnetLen, subnetMin: formatAddr(family, min), subnetMax: formatAddr(family, max) };
}

export function parseNetworkConfig(text: string): Result<NetworkConfig> {
  const parsed = parseObject(text);
  if (!parsed.ok) return fail(`the network config is ${parsed.reason}`);
  const o = parsed.value;
  const problems: string[] = [];
  const enableIPv4 = bool(o, 'EnableIPv4', true, problems);
  const enableIPv6 = bool(o, 'EnableIPv6', false, problems);
  const enableNFTables = bool(o, 'EnableNFTables', false, problems);
  const backendRaw = field(o, 'Backend');
  let backend: JsonObject = {};
  let backendType = 'udp';
  if (backendRaw !== undefined && backendRaw !== null) {
    if (!isObject(backendRaw)) problems.push('error decoding Backend property of config: it must be an object');
    else {
      backend = backendRaw;
      const t = field(backendRaw, 'Type');
      if (t !== undefined && typeof t !== 'string') problems.push('Backend.Type must be a string');
      backendType = typeof t === 'string' ? t.toLowerCase() : '';
    }
  }
  if (problems.length > 0) return fail(problems.join('; '));
  const ipv4 = enableIPv4 ? checkFamily(o, 4, problems) : undefined;
  const ipv6 = enableIPv6 ? checkFamily(o, 6, problems) : undefined;
  if (problems.length > 0) return fail(problems.join('; '));
  if (!enableIPv4 && !enableIPv6) return fail('the config enables neither IPv4 nor IPv6');
  return ok({ enableIPv4, enableIPv6, enableNFTables, ipv4, ipv6, backendType, backend });
}

export interface VxlanBackendConfig {
  readonly vni: number;
  /** UDP port; 0 leaves the kernel default (8472). */
  readonly port: number;
  /** Underlay MTU to derive the device MTU from (device MTU = MTU - 50); undefined: the interface's. */
  readonly mtu: number | undefined;
  readonly gbp: boolean;
  readonly learning: boolean;
  readonly directRouting: boolean;
}

/** The vxlan backend's own keys (flannel's VXLANConfig: VNI default 1, Port, MTU, GBP, Learning, DirectRouting). */
export function parseVxlanBackend(cfg: NetworkConfig): Result<VxlanBackendConfig> {
  if (cfg.backendType !== 'vxlan') {
    const what = cfg.backendType === '' ? 'no Backend.Type' : `backend type "${cfg.backendType}"`;
    return fail(`${what} in the network config; weft implements the vxlan backend: set "Backend": {"Type": "vxlan"}`);
  }
  const b = cfg.backend;
  const problems: string[] = [];
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = field(b, name);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`Backend.${name} must be an integer from ${min} to ${max}`);
      return dflt;
    }
    return v;
  };
  const flag = (name: string): boolean => {
    const v = field(b, name);
    if (v !== undefined && v !== null && typeof v !== 'boolean') problems.push(`Backend.${name} must be true or false`);
    return v === true;
  };
  const vni = int('VNI', 1, 0, 0xffffff);
  const port = int('Port', 0, 0, 65535);
  const mtuRaw = int('MTU', 0, 0, 65535);
  const out = {
    vni,
    port,
    mtu: mtuRaw === 0 ? undefined : mtuRaw,
    gbp: flag('GBP'),
    learning: flag('Learning'),
    directRouting: flag('DirectRouting'),
  };
  if (out.mtu !== undefined && out.mtu < 118) problems.push('Backend.MTU must leave at least 68 bytes after the 50-byte VXLAN overhead');
  return problems.length > 0 ? fail(problems.join('; ')) : ok(out);
}

/** A config as `weft network create` and the tests write it (flannel's field names). */
export function formatNetworkConfig(c: {
  network: string;
  subnetLen?: number;
  vni: number;
  port?: number;
  mtu?: number;
  directRouting?: boolean;
}): string {
  const backend: Record<string, unknown> = { Type: 'vxlan', VNI: c.vni };
  if (c.port) backend.Port = c.port;
  if (c.mtu) backend.MTU = c.mtu;
  if (c.directRouting) backend.DirectRouting = true;
  return JSON.stringify({ Network: c.network, ...(c.subnetLen !== undefined && { SubnetLen: c.subnetLen }), Backend: backend });
}
