/**
 * Docker's plugin protocol as weft speaks it (moby/libnetwork docs/remote.md and ipam.md): the requests it
 * reads, the option names it accepts, its pool IDs, and the pure decisions about them. No I/O here.
 */
import { WeftError } from '../errors/mod.ts';
import { formatPrefix, parseNetwork } from '../netaddr/cidr.ts';
import type { Family } from '../netaddr/family.ts';

/** The address space weft's IPAM reports; a network whose data carries another came from another IPAM. */
export const ADDRESS_SPACE = 'weft';
export const GENERIC = 'com.docker.network.generic';
export const GATEWAY_REQUEST = 'com.docker.network.gateway';
export const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export interface IpamData {
  readonly AddressSpace?: string;
  readonly Pool?: string;
  readonly Gateway?: string;
}

export interface CreateNetworkRequest {
  readonly NetworkID: string;
  readonly Options?: Readonly<Record<string, unknown>> | null;
  readonly IPv4Data?: readonly IpamData[] | null;
  readonly IPv6Data?: readonly IpamData[] | null;
}

/** `-o` options of `docker network create -d weft`, as weft's network options. */
export interface NetworkOptions {
  readonly vni: number | undefined;
  readonly mtu: number | undefined;
  readonly hostSubnetLen: number | undefined;
}

const OPTION_KEYS: Record<string, keyof NetworkOptions> = {
  vni: 'vni',
  mtu: 'mtu',
  'com.docker.network.driver.mtu': 'mtu',
  'host-subnet-len': 'hostSubnetLen',
};

/** Reads `-o` options; an unknown one or a non-number is refused (a typo must not pass silently). */
export function networkOptions(options: CreateNetworkRequest['Options']): NetworkOptions {
  const generic = (options?.[GENERIC] ?? {}) as Record<string, unknown>;
  const out: Record<string, number | undefined> = { vni: undefined, mtu: undefined, hostSubnetLen: undefined };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(generic)) {
    const key = OPTION_KEYS[k];
    if (!key) {
      problems.push(`unknown option "${k}" (weft takes -o vni=N, -o mtu=N, -o host-subnet-len=N)`);
      continue;
    }
    const text = String(v);
    if (!/^\d+$/.test(text)) problems.push(`option ${k} must be a whole number, got "${text}"`);
    else out[key] = Number(text);
  }
  if (problems.length > 0) throw new WeftError('WEFT_INVALID_CONFIG', problems.join('; '));
  return out as unknown as NetworkOptions;
}

/**
 * The ranges of a network being created: one IPv4 range and, with `--ipv6`, one IPv6 range, both from weft's
 * IPAM. (Docker always asks for an IPv4 pool, so an IPv6-only weft network cannot be made through Docker.)
 */
export function networkRanges(req: CreateNetworkRequest): { subnet: string; subnet6: string | undefined } {
  const v4 = req.IPv4Data ?? [];
  const v6 = req.IPv6Data ?? [];
  if (v4.length !== 1) throw new WeftError('WEFT_INVALID_CONFIG', `a weft network has exactly one IPv4 subnet, got ${v4.length}`);
  if (v6.length > 1) throw new WeftError('WEFT_INVALID_CONFIG', `a weft network has at most one IPv6 subnet, got ${v6.length}`);
  if ([...v4, ...v6].some((d) => d.AddressSpace !== ADDRESS_SPACE))
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      'weft networks take their addresses from weft: add --ipam-driver weft ' +
        "(Docker's default IPAM would give out the same addresses on every host)",
    );
  return { subnet: canonicalPool(v4[0]!.Pool ?? '', 4), subnet6: v6[0] && canonicalPool(v6[0].Pool ?? '', 6) };
}

/** A subnet in canonical form (`10.10.10.0/24`, `fd00:70::/64`), of `family` when given. */
export function canonicalPool(text: string, family?: Family): string {
  const n = parseNetwork(text);
  if (!n.ok || (family !== undefined && n.value.family !== family))
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      family === 6
        ? `subnet "${text}" is not an IPv6 network (give --subnet like fd00:70::/64 with --ipv6)`
        : `subnet "${text}" is not an IPv4 network (give --subnet like 10.10.10.0/24)`,
    );
  return formatPrefix(n.value);
}

/** Pool IDs name their range, so they survive a restart of either side without a table. */
export const poolId = (subnet: string): string => `weft:${subnet}`;

export function subnetOfPool(id: string): string {
  if (!id.startsWith('weft:')) throw new WeftError('WEFT_NOT_FOUND', `pool ${id} is not one of weft's`);
  return canonicalPool(id.slice(5));
}

/** A route Docker installs in the container: RouteType 0 is "via NextHop". */
export interface StaticRoute {
  readonly Destination: string;
  readonly RouteType: 0;
  readonly NextHop: string;
}

/** The body of an error answer: Docker shows `Err` to the user as the reason. */
export const errorBody = (message: string) => ({ Err: message });
