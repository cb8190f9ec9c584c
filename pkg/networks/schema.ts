/**
 * weft's own etcd schema for named networks (docs/adr/0003), beside flannel's:
 *
 *   <root>/names/<name>                    -> network id        (claimed by compare-and-create)
 *   <root>/vnis/<vni>                      -> network id        (likewise)
 *   <root>/networks/<id>/meta              -> NetworkMeta JSON
 *   <root>/networks/<id>/config            -> flannel network config (what the daemon's agent reads)
 *   <root>/networks/<id>/subnets/<key>     -> flannel leases, one per host
 *   <root>/networks/<id>/endpoints/<name>  -> Endpoint JSON
 *
 * Values are decoded without throwing; a bad one is reported for the caller to log and skip. Every value here
 * is read from etcd, which any host's credentials can write (issue 25): decodeMeta judges a meta by the rules
 * `network create` applies, and record.ts judges metas against each other and endpoints against their network.
 */
import { fail, ok, type Result } from '../netaddr/result.ts';
import { validateMeta } from './spec.ts';
import { familyOf, type PerFamily } from '../netaddr/family.ts';

export const keys = {
  networks: (root: string) => `${root}/networks/`,
  network: (root: string, id: string) => `${root}/networks/${id}`,
  meta: (root: string, id: string) => `${root}/networks/${id}/meta`,
  config: (root: string, id: string) => `${root}/networks/${id}/config`,
  endpoints: (root: string, id: string) => `${root}/networks/${id}/endpoints/`,
  endpoint: (root: string, id: string, name: string) => `${root}/networks/${id}/endpoints/${name}`,
  name: (root: string, name: string) => `${root}/names/${name}`,
  vni: (root: string, vni: number) => `${root}/vnis/${vni}`,
  vnis: (root: string) => `${root}/vnis/`,
};

export interface NetworkMeta {
  readonly Name: string;
  readonly Id: string;
  readonly Created: string;
  readonly Driver: 'overlay';
  readonly Scope: 'global';
  readonly Subnet: string;
  readonly Gateway: string | undefined;
  readonly VNI: number;
  /** The containers' MTU, when set at creation (else the underlay's minus 50). */
  readonly MTU: number | undefined;
  readonly HostSubnetLen: number;
  /** A dual-stack network's IPv6 range (`--ipv6`), and its hosts' IPv6 subnet length. */
  readonly SubnetV6?: string | undefined;
  readonly HostSubnetLenV6?: number | undefined;
}

/** A network's range of each family it carries: `Subnet` is an IPv6-only network's IPv6 range. */
export function rangesOf(m: Pick<NetworkMeta, 'Subnet' | 'SubnetV6'>): PerFamily<string> {
  return familyOf(m.Subnet) === 6 ? { 6: m.Subnet } : { 4: m.Subnet, ...(m.SubnetV6 !== undefined && { 6: m.SubnetV6 }) };
}

export interface Endpoint {
  readonly Name: string;
  readonly EndpointID: string;
  readonly NetworkID: string;
  readonly Network: string;
  readonly Host: string;
  readonly HostIP: string;
  readonly ContainerID: string;
  readonly Interface: string;
  readonly IPv4Address: string;
  /** On a dual-stack network; empty otherwise (as Docker shows it). */
  readonly IPv6Address: string;
  readonly MacAddress: string;
  readonly Aliases: readonly string[];
  readonly Created: string;
}

/** What a key under `<root>/networks/` is. */
export type NetworkKey =
  | { readonly kind: 'meta'; readonly id: string }
  | { readonly kind: 'config'; readonly id: string }
  | { readonly kind: 'subnet'; readonly id: string }
  | { readonly kind: 'endpoint'; readonly id: string; readonly name: string }
  | { readonly kind: 'other' };

export function classifyKey(root: string, key: string): NetworkKey {
  const rest = key.startsWith(keys.networks(root)) ? key.slice(keys.networks(root).length).split('/') : [];
  const [id, what, name] = rest;
  if (!id || !what) return { kind: 'other' };
  if (what === 'meta' && rest.length === 2) return { kind: 'meta', id };
  if (what === 'config' && rest.length === 2) return { kind: 'config', id };
  if (what === 'subnets') return { kind: 'subnet', id };
  if (what === 'endpoints' && name && rest.length === 3) return { kind: 'endpoint', id, name };
  return { kind: 'other' };
}

const str = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/** Far above any record weft writes (a few hundred bytes); a bigger value is refused before it is parsed. */
export const MAX_RECORD_BYTES = 16 * 1024;

function parseObject(text: string, what: string): Result<Record<string, unknown>> {
  if (text.length > MAX_RECORD_BYTES) return fail(`${what} is over ${MAX_RECORD_BYTES} bytes`);
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return fail(`${what} is not JSON`);
  }
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? ok(o as Record<string, unknown>) : fail(`${what} is not an object`);
}

/**
 * A meta's fields with their types, nothing judged yet (decodeMeta judges them; acceptNetworks judges them
 * against the other networks too). A field of the wrong type is refused, not taken as absent.
 */
export function decodeMetaFields(text: string): Result<NetworkMeta> {
  const parsed = parseObject(text, 'network meta');
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const [Name, Id, Subnet] = [str(o, 'Name'), str(o, 'Id'), str(o, 'Subnet')];
  if (!Name || !Id || !Subnet || typeof o.VNI !== 'number' || typeof o.HostSubnetLen !== 'number')
    return fail('network meta lacks Name, Id, Subnet, VNI or HostSubnetLen');
  const wrong = (
    [
      ['Created', 'string'],
      ['Gateway', 'string'],
      ['MTU', 'number'],
      ['SubnetV6', 'string'],
      ['HostSubnetLenV6', 'number'],
    ] as const
  ).find(([k, type]) => o[k] !== undefined && typeof o[k] !== type);
  if (wrong) return fail(`network meta's ${wrong[0]} is not a ${wrong[1]}`);
  if (o.Driver !== undefined && o.Driver !== 'overlay') return fail('network meta\'s Driver is not "overlay"');
  if (o.Scope !== undefined && o.Scope !== 'global') return fail('network meta\'s Scope is not "global"');
  if ((o.SubnetV6 === undefined) !== (o.HostSubnetLenV6 === undefined)) return fail('network meta has one of SubnetV6 and HostSubnetLenV6');
  return ok({
    Name,
    Id,
    Subnet,
    Created: str(o, 'Created') ?? '',
    Driver: 'overlay',
    Scope: 'global',
    Gateway: str(o, 'Gateway'),
    VNI: o.VNI,
    MTU: typeof o.MTU === 'number' ? o.MTU : undefined,
    HostSubnetLen: o.HostSubnetLen,
    ...(o.SubnetV6 !== undefined && { SubnetV6: o.SubnetV6 as string, HostSubnetLenV6: o.HostSubnetLenV6 as number }),
  });
}

/**
 * A network meta as etcd holds it, decoded and judged by the rules `network create` applies (validateMeta),
 * alone: whether it clashes with the other networks is acceptNetworks' question (record.ts).
 */
export function decodeMeta(text: string): Result<NetworkMeta> {
  const m = decodeMetaFields(text);
  return m.ok ? validateMeta(m.value) : m;
}

/**
 * An endpoint record's fields with their types (a field of the wrong type is refused, not taken as absent).
 * Its values are judged by acceptEndpoint (record.ts), against its key and its network: what the daemon
 * serves, shows or answers in DNS; the store reads records with this alone only to compare them with its own.
 */
export function decodeEndpoint(text: string): Result<Endpoint> {
  const parsed = parseObject(text, 'endpoint');
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const need = ['Name', 'NetworkID', 'Host', 'ContainerID'] as const;
  for (const k of need) if (!str(o, k)) return fail(`endpoint lacks ${k}`);
  const optional = ['EndpointID', 'Network', 'HostIP', 'Interface', 'IPv4Address', 'IPv6Address', 'MacAddress', 'Created'] as const;
  const wrong = optional.find((k) => o[k] !== undefined && typeof o[k] !== 'string');
  if (wrong) return fail(`endpoint's ${wrong} is not a string`);
  if (!str(o, 'IPv4Address') && !str(o, 'IPv6Address')) return fail('endpoint lacks IPv4Address and IPv6Address');
  if (o.Aliases !== undefined && !(Array.isArray(o.Aliases) && o.Aliases.every((a) => typeof a === 'string')))
    return fail("endpoint's Aliases is not a list of strings");
  return ok({
    Name: str(o, 'Name')!,
    EndpointID: str(o, 'EndpointID') ?? '',
    NetworkID: str(o, 'NetworkID')!,
    Network: str(o, 'Network') ?? '',
    Host: str(o, 'Host')!,
    HostIP: str(o, 'HostIP') ?? '',
    ContainerID: str(o, 'ContainerID')!,
    Interface: str(o, 'Interface') ?? '',
    IPv4Address: str(o, 'IPv4Address') ?? '',
    IPv6Address: str(o, 'IPv6Address') ?? '',
    MacAddress: str(o, 'MacAddress') ?? '',
    Aliases: (o.Aliases as string[] | undefined) ?? [],
    Created: str(o, 'Created') ?? '',
  });
}
