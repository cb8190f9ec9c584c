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
 * Values are decoded without throwing; a bad one is reported for the caller to log and skip.
 */
import { fail, ok, type Result } from '../netaddr/result.ts';

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

export function decodeMeta(text: string): Result<NetworkMeta> {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail('network meta is not JSON');
  }
  if (typeof o !== 'object' || o === null) return fail('network meta is not an object');
  const [Name, Id, Subnet] = [str(o, 'Name'), str(o, 'Id'), str(o, 'Subnet')];
  if (!Name || !Id || !Subnet || typeof o.VNI !== 'number' || typeof o.HostSubnetLen !== 'number')
    return fail('network meta lacks Name, Id, Subnet, VNI or HostSubnetLen');
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
    ...(str(o, 'SubnetV6') &&
      typeof o.HostSubnetLenV6 === 'number' && { SubnetV6: str(o, 'SubnetV6'), HostSubnetLenV6: o.HostSubnetLenV6 }),
  });
}

export function decodeEndpoint(text: string): Result<Endpoint> {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail('endpoint is not JSON');
  }
  if (typeof o !== 'object' || o === null) return fail('endpoint is not an object');
  const need = ['Name', 'NetworkID', 'Host', 'ContainerID'] as const;
  for (const k of need) if (!str(o, k)) return fail(`endpoint lacks ${k}`);
  if (!str(o, 'IPv4Address') && !str(o, 'IPv6Address')) return fail('endpoint lacks IPv4Address and IPv6Address');
  const aliases = Array.isArray(o.Aliases) ? o.Aliases.filter((a): a is string => typeof a === 'string') : [];
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
    Aliases: aliases,
    Created: str(o, 'Created') ?? '',
  });
}
