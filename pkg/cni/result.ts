/**
 * Results in each version's format, and prevResult read back from any of them.
 *
 * weft builds one 1.x result; `renderResult` writes it in the config's version: 1.1.0 in full, 1.0.0 without
 * the 1.1.0 fields, 0.3.x/0.4.0 with `ips[].version`, 0.1.0/0.2.0 as `ip4`/`ip6`. A chained plugin further
 * down (portmap, bandwidth, tuning) parses it with that version's types, so a field from a later version
 * would break it.
 */
import { WeftError } from '../errors/mod.ts';
import { parsePrefix } from '../netaddr/cidr.ts';
import { resultFamily, type CniVersion } from './versions.ts';
import type { CniDns, CniInterface, CniIPConfig, CniResult, CniRoute } from './types.ts';
import { familyOf } from '../netaddr/family.ts';

type Json = Record<string, unknown>;

function dnsJson(dns: CniDns | undefined): Json {
  const out: Json = {};
  if (!dns) return out;
  if (dns.nameservers?.length) out.nameservers = dns.nameservers;
  if (dns.domain) out.domain = dns.domain;
  if (dns.search?.length) out.search = dns.search;
  if (dns.options?.length) out.options = dns.options;
  return out;
}

function interfaceJson(i: CniInterface, full: boolean): Json {
  const out: Json = { name: i.name };
  if (i.mac !== undefined) out.mac = i.mac;
  if (full && i.mtu !== undefined) out.mtu = i.mtu;
  if (i.sandbox !== undefined && i.sandbox !== '') out.sandbox = i.sandbox;
  if (full && i.socketPath !== undefined) out.socketPath = i.socketPath;
  if (full && i.pciID !== undefined) out.pciID = i.pciID;
  return out;
}

function routeJson(r: CniRoute, full: boolean): Json {
  const out: Json = { dst: r.dst };
  if (r.gw !== undefined) out.gw = r.gw;
  if (full) {
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[k] !== undefined) out[k] = r[k];
  }
  return out;
}

export function renderResult(r: CniResult, version: CniVersion): Json {
  const family = resultFamily(version);
  const dns = dnsJson(r.dns);
  if (family === '020') {
    const out: Json = { cniVersion: version };
    for (const f of [4, 6] as const) {
      const ip = r.ips?.find((x) => familyOf(x.address) === f);
      if (!ip) continue;
      const routes = (r.routes ?? []).filter((x) => familyOf(x.dst) === f).map((x) => routeJson(x, false));
      out[`ip${f}`] = { ip: ip.address, ...(ip.gateway !== undefined && { gateway: ip.gateway }), ...(routes.length > 0 && { routes }) };
    }
    out.dns = dns;
    return out;
  }
  const full = version === '1.1.0';
  const out: Json = { cniVersion: version };
  if (r.interfaces?.length) out.interfaces = r.interfaces.map((i) => interfaceJson(i, full));
  if (r.ips?.length) {
    out.ips = r.ips.map((ip) => ({
      ...(family === '040' && { version: String(familyOf(ip.address)) }),
      ...(ip.interface !== undefined && { interface: ip.interface }),
      address: ip.address,
      ...(ip.gateway !== undefined && { gateway: ip.gateway }),
    }));
  }
  if (r.routes?.length) out.routes = r.routes.map((x) => routeJson(x, full));
  out.dns = dns;
  return out;
}

// ---- reading a prevResult of any version --------------------------------------------------------

function bad(what: string): never {
  throw new WeftError('WEFT_DECODE', `prevResult: ${what}`);
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (o: Json, k: string): string | undefined => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : bad(`"${k}" must be a string`);
};
const optNum = (o: Json, k: string): number | undefined => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : bad(`"${k}" must be a non-negative integer`);
};
const strList = (o: Json, k: string): string[] | undefined => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(`"${k}" must be a list of strings`);
  return v as string[];
};
const cidr = (s: string | undefined, what: string): string => {
  if (s === undefined || !parsePrefix(s).ok) bad(`${what} "${s}" is not an address in CIDR form`);
  return s;
};

function readRoute(v: unknown): CniRoute {
  if (!isObj(v)) bad('a route must be an object');
  const out: Record<string, unknown> = { dst: cidr(optStr(v, 'dst'), 'route dst') };
  for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
    const n = optNum(v, k);
    if (n !== undefined) out[k] = n;
  }
  const gw = optStr(v, 'gw');
  if (gw !== undefined) out.gw = gw;
  return out as unknown as CniRoute;
}

function readDns(v: unknown): CniDns | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) bad('"dns" must be an object');
  const nameservers = strList(v, 'nameservers');
  const domain = optStr(v, 'domain');
  const search = strList(v, 'search');
  const options = strList(v, 'options');
  return {
    ...(nameservers && { nameservers }),
    ...(domain !== undefined && { domain }),
    ...(search && { search }),
    ...(options && { options }),
  };
}

function list(o: Json, k: string): unknown[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : bad(`"${k}" must be a list`);
}

/** Reads a prevResult written in any supported version into the 1.x shape. */
export function readPrevResult(raw: unknown): CniResult {
  if (!isObj(raw)) bad('must be an object');
  const dns = readDns(raw.dns);
  if (raw.ip4 !== undefined || raw.ip6 !== undefined) {
    const ips: CniIPConfig[] = [];
    const routes: CniRoute[] = [];
    for (const k of ['ip4', 'ip6'] as const) {
      const v = raw[k];
      if (v === undefined || v === null) continue;
      if (!isObj(v)) bad(`"${k}" must be an object`);
      const gateway = optStr(v, 'gateway');
      ips.push({ address: cidr(optStr(v, 'ip'), `${k}.ip`), ...(gateway !== undefined && { gateway }) });
      routes.push(...list(v, 'routes').map(readRoute));
    }
    return { ips, routes, ...(dns && { dns }) };
  }
  const interfaces = list(raw, 'interfaces').map((v): CniInterface => {
    if (!isObj(v) || typeof v.name !== 'string') bad('each interface needs a "name"');
    const out: Record<string, unknown> = { name: v.name };
    for (const k of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
      const s = optStr(v, k);
      if (s !== undefined) out[k] = s;
    }
    const mtu = optNum(v, 'mtu');
    if (mtu !== undefined) out.mtu = mtu;
    return out as unknown as CniInterface;
  });
  const ips = list(raw, 'ips').map((v): CniIPConfig => {
    if (!isObj(v)) bad('each ip must be an object');
    const gateway = optStr(v, 'gateway');
    const iface = optNum(v, 'interface');
    if (iface !== undefined && iface >= interfaces.length) bad(`ips[].interface ${iface} is out of range`);
    return {
      address: cidr(optStr(v, 'address'), 'ips[].address'),
      ...(gateway !== undefined && { gateway }),
      ...(iface !== undefined && { interface: iface }),
    };
  });
  return { interfaces, ips, routes: list(raw, 'routes').map(readRoute), ...(dns && { dns }) };
}

/** prevResult followed by this plugin's additions: a chained plugin "must output it ... with any modifications". */
export function mergeResults(prev: CniResult, mine: CniResult): CniResult {
  const offset = prev.interfaces?.length ?? 0;
  const dns = mine.dns && Object.keys(mine.dns).length > 0 ? mine.dns : prev.dns;
  return {
    interfaces: [...(prev.interfaces ?? []), ...(mine.interfaces ?? [])],
    ips: [
      ...(prev.ips ?? []),
      ...(mine.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset })),
    ],
    routes: [...(prev.routes ?? []), ...(mine.routes ?? [])],
    ...(dns && { dns }),
  };
}
