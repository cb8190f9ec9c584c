/**
 * Anti-spoofing on every container port (issue 25): a container's frames enter its network's bridge only
 * with the MAC and the IPv4/IPv6 addresses its attachment was given. Docker and podman give containers
 * CAP_NET_RAW, so without this a container could send as another container, as another network (whose
 * range-based isolation then let it through), or as no network at all. Pure: the table and its set elements
 * as data; the daemon keeps them (keeper.ts), the CNI plugin adds its own port's elements (pkg/attach).
 *
 * One `bridge` table, hook prerouting, so it sees every frame a port hands its bridge, whether the bridge
 * then switches it to another port or routes it (to another host, another network, the host itself).
 * Per port, keyed by the host end's name:
 *
 *   macs     port . MAC              the frame's source MAC
 *   arps4    port . MAC . IPv4       ARP must carry the port's own MAC and address (0.0.0.0: RFC 5227 probes)
 *   addrs4   port . IPv4             IPv4 source
 *   addrs6   port . IPv6             IPv6 source; link-local (fe80::/10) passes, and :: for DAD and MLD
 *   targets6 port . IPv6 (raw)      the target a neighbour advertisement announces (not a link-local one)
 *
 * Router advertisements and redirects from containers are dropped (no container is a router on a weft
 * network, and a rogue advertisement would reroute its neighbours); frames other than ARP, IPv4 and IPv6
 * (VLAN tags, ...) too.
 *
 * Which ports are checked: those in `ports`. A port the plugin is still making is put there, with its other
 * elements, in one nft transaction before the container's end of the veth comes up, so no packet leaves
 * unchecked and none of the container's first packets is lost (measured in docs/adr/0010). Ports on a
 * named network's bridge that have no attachment record are put in `quarantine` by the daemon and dropped
 * whole (fail closed: the kernel's `meta ibrname`, which could say "this frame came from a weft bridge" in
 * the rule itself, is not in every kernel weft runs on). The flannel default network's cni0 is left open
 * for ports without a record: pods the flannel CNI attached before weft took the host over live there.
 */
import { formatAddr, parsePrefix } from '../netaddr/cidr.ts';
import { parseIP } from '../netaddr/ip.ts';
import { canonicalMac, parseMac } from '../netaddr/mac.ts';
import { ifnameField, setKey } from '../rtnl/nftables.ts';
import type { NftTable } from './table.ts';

export const GUARD_TABLE = 'weft_guard';

/** The sets of the guard table, by name. */
export type GuardSet = 'ports' | 'quarantine' | 'macs' | 'arps4' | 'addrs4' | 'addrs6' | 'targets6';

export const GUARD_SETS: readonly GuardSet[] = ['ports', 'quarantine', 'macs', 'arps4', 'addrs4', 'addrs6', 'targets6'];

/** One container port as its attachment record describes it, validated (portOf). */
export interface GuardedPort {
  /** The host end of the container's veth. */
  readonly name: string;
  /** The container end's MAC, lowercase. */
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** Interface names weft puts into nft: what the kernel allows, minus anything nft's syntax would read. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export const nftIfName = (name: string): boolean => IFNAME.test(name) && name !== '.' && name !== '..';

/**
 * A port from an attachment record's fields, or undefined when any of them is not what weft writes (the
 * name, the MAC, each address): nothing read from a file goes into nft unchecked.
 */
export function portOf(r: {
  readonly hostVeth: string;
  readonly mac?: string | undefined;
  readonly ips: readonly string[];
}): GuardedPort | undefined {
  const mac = r.mac === undefined ? undefined : canonicalMac(r.mac);
  if (!nftIfName(r.hostVeth) || !mac) return undefined;
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const cidr of r.ips) {
    const p = parsePrefix(cidr);
    if (!p.ok) return undefined;
    (p.value.family === 4 ? ipv4 : ipv6).push(formatAddr(p.value.family, p.value.ip));
  }
  return { name: r.hostVeth, mac, ipv4, ipv6 };
}

/** The table without elements: what the keeper compares with the kernel's as text. */
export function guardTable(): Omit<NftTable, 'elements'> {
  return {
    family: 'bridge',
    name: GUARD_TABLE,
    body: [
      'set ports { type ifname; }',
      'set quarantine { type ifname; }',
      'set macs { type ifname . ether_addr; }',
      'set arps4 { type ifname . ether_addr . ipv4_addr; }',
      'set addrs4 { type ifname . ipv4_addr; }',
      'set addrs6 { type ifname . ipv6_addr; }',
      'set targets6 { typeof iifname . @th,64,128; }',
      'chain prerouting {',
      '  type filter hook prerouting priority filter; policy accept;',
      '  iifname @quarantine drop comment "a port on a weft bridge with no attachment record"',
      '  iifname != @ports accept',
      `  iifname . ether saddr != @macs drop comment "not the port's MAC"`,
      '  ether type vmap { arp : jump from_port_arp, ip : jump from_port_ip, ip6 : jump from_port_ip6 }',
      '  drop comment "frames other than ARP, IPv4 and IPv6 (VLAN tags, ...)"',
      '}',
      'chain from_port_arp {',
      '  iifname . arp saddr ether . arp saddr ip @arps4 accept',
      `  drop comment "ARP must carry the port's own MAC and address"`,
      '}',
      'chain from_port_ip {',
      '  iifname . ip saddr @addrs4 accept',
      `  drop comment "not the port's IPv4 address"`,
      '}',
      'chain from_port_ip6 {',
      '  icmpv6 type { nd-router-advert, nd-redirect } drop comment "containers are not routers"',
      '  ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept',
      `  ip6 saddr != fe80::/10 iifname . ip6 saddr != @addrs6 drop comment "not the port's IPv6 address"`,
      // The target of a neighbour advertisement starts 8 bytes into the ICMPv6 header; link-local targets pass.
      '  icmpv6 type nd-neighbor-advert @th,64,16 & 0xffc0 != 0xfe80 iifname . @th,64,128 != @targets6 drop' +
        ` comment "advertises an address not the port's"`,
      '  accept',
      '}',
    ],
  };
}

/** Each set's elements for these ports and quarantined port names, in nft's syntax. */
export function guardElements(ports: readonly GuardedPort[], quarantine: readonly string[] = []): Record<GuardSet, string[]> {
  const out: Record<GuardSet, string[]> = { ports: [], quarantine: [], macs: [], arps4: [], addrs4: [], addrs6: [], targets6: [] };
  for (const p of ports) {
    const n = JSON.stringify(p.name);
    out.ports.push(n);
    out.macs.push(`${n} . ${p.mac}`);
    for (const a of [...p.ipv4, '0.0.0.0']) out.arps4.push(`${n} . ${p.mac} . ${a}`);
    for (const a of p.ipv4) out.addrs4.push(`${n} . ${a}`);
    for (const a of p.ipv6) {
      out.addrs6.push(`${n} . ${a}`);
      out.targets6.push(`${n} . 0x${Buffer.from(parseIP(a)!.bytes).toString('hex').replace(/^0+/, '') || '0'}`);
    }
  }
  for (const q of quarantine) if (nftIfName(q)) out.quarantine.push(JSON.stringify(q));
  return out;
}

/** The order one port's elements are added in: `ports` last, so a port is checked only with all it may send. */
const PORT_ORDER: readonly GuardSet[] = ['macs', 'arps4', 'addrs4', 'addrs6', 'targets6', 'ports'];

/**
 * One port's elements as the sets' key bytes, for adding them over nfnetlink in one transaction (the CNI
 * plugin, right after it made the port: pkg/kernel/nftables.ts). The same elements as guardElements.
 */
export function portKeys(p: GuardedPort): Array<{ set: GuardSet; keys: Uint8Array[] }> {
  const name = ifnameField(p.name);
  const mac = parseMac(p.mac)!;
  const v4 = p.ipv4.map((a) => parseIP(a)!.bytes);
  const v6 = p.ipv6.map((a) => parseIP(a)!.bytes);
  const keys: Record<GuardSet, Uint8Array[]> = {
    ports: [setKey(name)],
    quarantine: [],
    macs: [setKey(name, mac)],
    arps4: [...v4, new Uint8Array(4)].map((a) => setKey(name, mac, a)),
    addrs4: v4.map((a) => setKey(name, a)),
    addrs6: v6.map((a) => setKey(name, a)),
    targets6: v6.map((a) => setKey(name, a)),
  };
  return PORT_ORDER.filter((s) => keys[s].length > 0).map((set) => ({ set, keys: keys[set] }));
}

/** Port names as keys of the `quarantine` set. */
export function quarantineKeys(names: Iterable<string>): Array<{ set: 'quarantine'; keys: Uint8Array[] }> {
  return [{ set: 'quarantine', keys: [...names].filter(nftIfName).map((n) => setKey(ifnameField(n))) }];
}

/** The same as an nft -f script (what the keeper's tests play the plugin's part with). */
export function portScript(p: GuardedPort): string {
  const e = guardElements([p]);
  return PORT_ORDER.filter((s) => e[s].length > 0)
    .map((s) => `add element bridge ${GUARD_TABLE} ${s} { ${e[s].join(', ')} }\n`)
    .join('');
}
