/**
 * Isolation between networks: on every host, traffic forwarded from one weft network to another is dropped
 * (also between two bridges of the same host), so containers on RED cannot reach BLUE unless they are
 * attached to both. One table; it hooks forward just before the usual filter priority so no accept elsewhere
 * lets such traffic through first. With fewer than two networks there is nothing to isolate: no table.
 *
 * Two kinds of rule. By interface (issue 25), whatever the source address: what came in on a network's
 * bridge or VTEP may leave through that network's own bridge or VTEP, or towards the underlay and outside,
 * never through another network's. A container can put any source address on a packet (CAP_NET_RAW), so
 * rules by address alone let RED's containers reach BLUE as BLUE's addresses; the port guard (guard.ts)
 * stops that at the port too, and this rule also holds for ports it does not check. By address, as before:
 * traffic from one network's range to another's, however it came in (a route an operator added, say).
 *
 * Names and ranges come from etcd, device names are made from them: every one passes values.ts's checks (or
 * is a plain interface name) on its way into a rule, and the builder throws rather than paste anything else.
 */
import { WeftError } from '../errors/mod.ts';
import { nftIfName } from './guard.ts';
import type { NftTable } from './table.ts';
import { nftCidr, nftCommentText, nftFamily } from './values.ts';
import { familyOf } from '../netaddr/family.ts';

export const ISOLATION_TABLE = 'weft_isolation';

export interface IsolatedRange {
  readonly name: string;
  readonly subnet: string;
}

/** A network's devices on a host: its bridge and its VTEP(s). */
export interface IsolatedDevices {
  readonly name: string;
  readonly devices: readonly string[];
}

function nftDevice(name: string): string {
  if (!nftIfName(name))
    throw new WeftError('WEFT_INVALID_ARGUMENT', `${JSON.stringify(name)} is not an interface name; it is kept out of nft rules`);
  return name;
}

const quoted = (names: readonly string[]) => `{ ${names.map((d) => `"${nftDevice(d)}"`).join(', ')} }`;

/**
 * The table, or undefined when no network has another to be kept from: by interface between networks'
 * `devices`, by address between `ranges` of one family (IPv6 ranges by `ip6` rules).
 */
export function isolationTable(ranges: readonly IsolatedRange[], devices: readonly IsolatedDevices[] = []): NftTable | undefined {
  const nets = devices.map((d) => ({ name: d.name, devices: [...new Set(d.devices)] })).filter((d) => d.devices.length > 0);
  const byDevice = nets.flatMap((n) => {
    const others = [...new Set(nets.filter((o) => o.name !== n.name).flatMap((o) => o.devices))].filter((d) => !n.devices.includes(d));
    if (others.length === 0) return [];
    const why = `${nftCommentText(n.name)}: nothing from its bridge or VTEP to another network's`;
    return [`  iifname ${quoted(n.devices)} oifname ${quoted(others)} drop comment "${why}"`];
  });
  const byAddress = ranges.flatMap((r) => {
    const family = familyOf(r.subnet);
    const others = ranges.filter((o) => o !== r && familyOf(o.subnet) === family).map((o) => nftCidr(o.subnet));
    const ip = nftFamily(family);
    if (others.length === 0) return [];
    // Ranges and names come from etcd: only canonical ranges and plain names reach the script (values.ts).
    const comment = `${nftCommentText(r.name)}: no traffic to other networks`;
    return [`  ${ip} saddr ${nftCidr(r.subnet)} ${ip} daddr { ${others.join(', ')} } drop comment "${comment}"`];
  });
  if (byDevice.length === 0 && byAddress.length === 0) return undefined;
  return {
    family: 'inet',
    name: ISOLATION_TABLE,
    body: ['chain forward {', '  type filter hook forward priority filter - 1; policy accept;', ...byDevice, ...byAddress, '}'],
  };
}
