/**
 * Network and endpoint records as read back from etcd: untrusted input (issue 25). Anyone holding any node's
 * etcd credentials can write any key, past the API, so a record is judged by the rules the API applies before
 * it writes one: a network by validateCreate's (through validateMeta, spec.ts), an endpoint by the rules below,
 * which the daemon's register applies to what it is asked to write too. And against the records before it:
 * a network with a name, a range or a VNI that an earlier one has is refused as `network create` refuses it,
 * the earlier record (by etcd's create revision) keeping it, so every host and `weft network ls` choose alike.
 *
 * A refused record never reaches the agent, the firewall, DNS or a file path; the caller logs each refusal
 * once, with the key and the reason (made printable here: stored text can carry newlines that would forge
 * log lines).
 */
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { containsIP, formatAddr, formatPrefix, parseAddr, parseNetwork, parsePrefix } from '../netaddr/cidr.ts';
import { fail, ok, type Result } from '../netaddr/result.ts';
import { NETWORK_NAME } from './names.ts';
import { classifyKey, decodeEndpoint, decodeMetaFields, rangesOf, type Endpoint, type NetworkMeta } from './schema.ts';
import { DEFAULT_NETWORK_NAME, NETWORK_ID, networkConfigOf, validateMeta, vniTaken, type ExistingNetwork } from './spec.ts';
import type { Family } from '../netaddr/family.ts';

/** A key and value as etcd holds them, and the revision that created the key (who came first). */
export interface StoredKv {
  readonly key: string;
  readonly value: string;
  readonly createRevision?: string | undefined;
}

export interface Refusal {
  readonly key: string;
  readonly reason: string;
}

/** The flannel default network's ranges and VNI, which no named network may take either. */
export interface DefaultNetwork {
  readonly subnet: string;
  readonly subnet6?: string | undefined;
  readonly vni?: number | undefined;
}

/** Stored text as a log line can carry it: anything but printable ASCII escaped as JSON escapes it. */
export const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const revisionOf = (kv: StoredKv): bigint => (/^\d{1,20}$/.test(kv.createRevision ?? '') ? BigInt(kv.createRevision!) : 0n);

/**
 * The networks among `kvs` (any keys under `<root>/networks/`; metas are picked out) that pass, in the order
 * they were created, and the refused ones with why.
 */
export function acceptNetworks(
  root: string,
  kvs: readonly StoredKv[],
  dflt?: DefaultNetwork,
): { accepted: NetworkMeta[]; refused: Refusal[] } {
  const existing: ExistingNetwork[] = dflt ? [{ name: DEFAULT_NETWORK_NAME, subnet: dflt.subnet, subnet6: dflt.subnet6 }] : [];
  const vnis = dflt?.vni !== undefined ? [{ name: DEFAULT_NETWORK_NAME, vni: dflt.vni }] : [];
  const metas = kvs
    .flatMap((kv) => {
      const k = classifyKey(root, kv.key);
      return k.kind === 'meta' ? [{ kv, id: k.id }] : [];
    })
    .sort((a, b) => {
      const [ra, rb] = [revisionOf(a.kv), revisionOf(b.kv)];
      return ra !== rb ? (ra < rb ? -1 : 1) : a.kv.key < b.kv.key ? -1 : a.kv.key > b.kv.key ? 1 : 0;
    });
  const accepted: NetworkMeta[] = [];
  const refused: Refusal[] = [];
  for (const { kv, id } of metas) {
    const fields = decodeMetaFields(kv.value);
    const v = fields.ok ? validateMeta(fields.value, existing) : fields;
    const reason = !v.ok ? v.reason : v.value.Id !== id ? `its ID ${v.value.Id} is not the one in its key` : vniTaken(v.value.VNI, vnis);
    if (reason !== undefined || !v.ok) {
      refused.push({ key: printable(kv.key), reason: printable(reason ?? '') });
      continue;
    }
    const m = v.value;
    accepted.push(m);
    existing.push({ name: m.Name, subnet: m.Subnet, subnet6: m.SubnetV6 });
    vnis.push({ name: m.Name, vni: m.VNI });
  }
  return { accepted, refused };
}

/** At most this many aliases on one endpoint (Docker and podman give one or two). */
export const MAX_ALIASES = 32;
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,255}$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
/** Text only shown (a host's name, an interface, a time): visible ASCII, no spaces or quotes to break a line. */
const shown = (s: string, max: number): boolean => s.length <= max && /^[\x21-\x7e]*$/.test(s) && !/["'\\]/.test(s);

/**
 * Why `name` cannot be a container's name or alias on a network, or undefined: it is what DNS answers, as
 * `NAME` and `NAME.NETWORK`, so a network name's characters (NETWORK_NAME) and no empty label.
 */
export function endpointNameProblem(name: string): string | undefined {
  if (NETWORK_NAME.test(name) && !name.split('.').includes('')) return undefined;
  return `invalid name ${JSON.stringify(name)}: use letters, digits, _ . - (starting with a letter or digit, at most 63, no empty label)`;
}

/** An endpoint address: `address/len` of the family, as written by the parser, inside the network's range of it. */
function addressProblem(text: string, family: Family, range: string | undefined): string | undefined {
  if (text === '') return undefined;
  const p = parsePrefix(text);
  if (!p.ok || p.value.family !== family || formatPrefix(p.value) !== text)
    return `its IPv${family} address ${JSON.stringify(text)} is not an IPv${family} address with its prefix length`;
  const r = range === undefined ? undefined : parseNetwork(range);
  if (!r?.ok || !containsIP(r.value, family, p.value.ip))
    return `its address ${text} is not in the network (${range ?? `it has no IPv${family} range`})`;
  return undefined;
}

/**
 * An endpoint record judged for its network: the names DNS answers, the addresses inside the network's ranges
 * (a record pointing a name at any other address would send the network's containers there), and every other
 * field of the form the daemon writes it. The daemon's register applies this to what it writes, too.
 */
export function validateEndpoint(e: Endpoint, net: Pick<NetworkMeta, 'Id' | 'Name' | 'Subnet' | 'SubnetV6'>): Result<Endpoint> {
  const problems: string[] = [];
  const add = (p: string | undefined) => p !== undefined && problems.push(p);
  add(endpointNameProblem(e.Name));
  if (e.Aliases.length > MAX_ALIASES) problems.push(`it has ${e.Aliases.length} aliases (at most ${MAX_ALIASES})`);
  else for (const a of e.Aliases) add(endpointNameProblem(a)?.replace(/^invalid name/, 'invalid alias'));
  if (e.NetworkID !== net.Id) problems.push(`its NetworkID ${JSON.stringify(e.NetworkID)} is not its network's`);
  if (e.Network !== '' && e.Network !== net.Name) problems.push(`its Network ${JSON.stringify(e.Network)} is not its network's name`);
  if (!CONTAINER_ID.test(e.ContainerID)) problems.push(`its ContainerID ${JSON.stringify(e.ContainerID)} is not letters, digits, _ . -`);
  if (e.EndpointID !== '' && !NETWORK_ID.test(e.EndpointID))
    problems.push(`its EndpointID ${JSON.stringify(e.EndpointID)} is not 64 hex digits`);
  if (e.MacAddress !== '' && !MAC.test(e.MacAddress)) problems.push(`its MacAddress ${JSON.stringify(e.MacAddress)} is not a MAC address`);
  const host = e.HostIP === '' ? undefined : parseAddr(e.HostIP);
  if (e.HostIP !== '' && (!host || formatAddr(host.family, host.ip) !== e.HostIP))
    problems.push(`its HostIP ${JSON.stringify(e.HostIP)} is not an address`);
  if (!shown(e.Host, 253) || e.Host === '') problems.push(`its Host ${JSON.stringify(e.Host)} is not a host name`);
  if (!shown(e.Interface, 64)) problems.push(`its Interface ${JSON.stringify(e.Interface)} is not an interface name`);
  if (!shown(e.Created, 64)) problems.push(`its Created ${JSON.stringify(e.Created)} is not a timestamp`);
  const ranges = rangesOf(net);
  add(addressProblem(e.IPv4Address, 4, ranges[4]));
  add(addressProblem(e.IPv6Address, 6, ranges[6]));

  if (e.IPv4Address === '' && e.IPv6Address === '') problems.push('it has no address');
  return problems.length > 0 ? fail(problems.join('; ')) : ok(e);
}

/** An endpoint record read from etcd, for its network (an accepted meta): decoded, judged, and the name its key claims. */
export function acceptEndpoint(root: string, kv: Pick<StoredKv, 'key' | 'value'>, net: NetworkMeta): Result<Endpoint> {
  const k = classifyKey(root, kv.key);
  if (k.kind !== 'endpoint' || k.id !== net.Id) return fail(`it is not an endpoint of network ${net.Name}`);
  const d = decodeEndpoint(kv.value);
  if (!d.ok) return d;
  const v = validateEndpoint(d.value, net);
  const problems = v.ok ? [] : [v.reason];
  if (d.value.Name !== k.name) problems.push(`its name ${JSON.stringify(d.value.Name)} is not the one in its key`);
  return problems.length > 0 ? fail(printable(problems.join('; '))) : d;
}

/** A config as its agent serves it: the ranges of each family, and the vxlan backend, as flannel's parser reads them. */
function served(text: string): string | undefined {
  const c = parseNetworkConfig(text);
  const vx = c.ok ? parseVxlanBackend(c.value) : c;
  return c.ok && vx.ok ? JSON.stringify([c.value.ipv4, c.value.ipv6, vx.value]) : undefined;
}

/**
 * Why a named network's stored `config` is not the one its meta implies (networkConfigOf), or undefined (also
 * when there is none: the network is being created or removed). Its agent serves the meta's either way.
 */
export function configProblem(meta: NetworkMeta, text: string | undefined): string | undefined {
  if (text === undefined || served(text) === served(networkConfigOf(meta))) return undefined;
  return `it is not the config its meta implies (${networkConfigOf(meta)}); serving the meta's`;
}
