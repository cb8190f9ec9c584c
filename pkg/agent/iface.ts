/**
 * The underlay interface, chosen as flanneld chooses it (pkg/ipmatch LookupExtIface): the first `--iface`
 * (a name or one of its addresses) that exists; else the first `--iface-regex` matching an address, then a
 * name; else the interface of the default route. Its first global IPv4 address is the VTEP's local address and,
 * unless `--public-ip` says otherwise, the address advertised to peers; its first global IPv6 address, if it
 * has one, is the IPv6 VTEP's (dual-stack networks; `--public-ipv6` as `--public-ip`).
 */
import { WeftError } from '../errors/mod.ts';
import type { Addr, Link, Netlink } from '../kernel/mod.ts';
import { formatPrefix, networkOf, parsePrefix } from '../netaddr/cidr.ts';
import { parseIP } from '../netaddr/ip.ts';
import type { Family } from '../netaddr/family.ts';

export interface ExternalInterface {
  readonly index: number;
  readonly name: string;
  readonly mtu: number;
  /** The interface's IPv4 address (VTEP local address). */
  readonly address: string;
  /** Connected subnets (IPv4, and IPv6 for dual-stack networks), for DirectRouting's "same subnet" test. */
  readonly prefixes: readonly string[];
  /** The address peers reach this host at. */
  readonly publicIP: string;
  /**
   * The VTEP's source address: the PublicIP when it is one of this host's addresses (flannel uses the public
   * address since v0.27.4), otherwise the interface's (a NAT address cannot be a packet's source here).
   */
  readonly vtepLocal: string;
  /** The interface's first global IPv6 address, the IPv6 VTEP's local address; undefined when it has none. */
  readonly address6?: string | undefined;
  /** The IPv6 address peers reach this host at (`--public-ipv6`, else `address6`). */
  readonly publicIPv6?: string | undefined;
  /** As vtepLocal, for IPv6. */
  readonly vtepLocal6?: string | undefined;
}

export interface IfaceSelector {
  readonly ifaces: readonly string[];
  readonly ifaceRegexes: readonly string[];
  readonly publicIP: string | undefined;
  readonly publicIPv6?: string | undefined;
}

const globalOf = (family: Family) => (addrs: readonly Addr[], index: number) =>
  addrs.filter((a) => a.index === index && a.family === family && a.scope === 0);
const globalV4 = globalOf(4);
const globalV6 = globalOf(6);

export async function findExternalInterface(nl: Netlink, sel: IfaceSelector): Promise<ExternalInterface> {
  const [links, addrs4, addrs6] = await Promise.all([nl.listLinks(), nl.listAddrs({ family: 4 }), nl.listAddrs({ family: 6 })]);
  const addrs = [...addrs4, ...addrs6];
  let link: Link | undefined;
  let why: string;
  if (sel.ifaces.length > 0) {
    for (const want of sel.ifaces) {
      link = parseIP(want)
        ? links.find((l) => addrs.some((a) => a.index === l.index && a.address === want))
        : links.find((l) => l.name === want);
      if (link) break;
    }
    why = `none of --iface ${sel.ifaces.join(', ')} exists on this host`;
  } else if (sel.ifaceRegexes.length > 0) {
    for (const re of sel.ifaceRegexes.map((r) => new RegExp(r))) {
      link = links.find((l) => globalV4(addrs, l.index).some((a) => re.test(a.address))) ?? links.find((l) => re.test(l.name));
      if (link) break;
    }
    why = `no interface address or name matches --iface-regex ${sel.ifaceRegexes.join(', ')}`;
  } else {
    const dflt = (await nl.listRoutes({ family: 4 })).find((r) => r.dst === '0.0.0.0/0' && r.oif !== undefined);
    link = dflt && links.find((l) => l.index === dflt.oif);
    why = 'this host has no default route; name the underlay interface with --iface';
  }
  if (!link) throw new WeftError('WEFT_INVALID_CONFIG', why);
  const v4 = globalV4(addrs, link.index);
  if (v4.length === 0) throw new WeftError('WEFT_INVALID_CONFIG', `interface ${link.name} has no IPv4 address to use as the VTEP address`);
  if (link.mtu === 0) throw new WeftError('WEFT_INVALID_CONFIG', `interface ${link.name} reports MTU 0`);
  const v6 = globalV6(addrs, link.index)[0]?.address;
  const pub6 = sel.publicIPv6 ?? v6;
  return {
    index: link.index,
    name: link.name,
    mtu: link.mtu,
    address: v4[0]!.address,
    prefixes: [...v4, ...globalV6(addrs, link.index)].map((a) => {
      const p = parsePrefix(a.cidr);
      return p.ok ? formatPrefix(networkOf(p.value)) : a.cidr;
    }),
    publicIP: sel.publicIP ?? v4[0]!.address,
    vtepLocal: sel.publicIP !== undefined && addrs.some((a) => a.address === sel.publicIP) ? sel.publicIP : v4[0]!.address,
    ...(v6 !== undefined && { address6: v6 }),
    ...(pub6 !== undefined && { publicIPv6: pub6 }),
    ...(v6 !== undefined && {
      vtepLocal6: sel.publicIPv6 !== undefined && addrs.some((a) => a.address === sel.publicIPv6) ? sel.publicIPv6 : v6,
    }),
  };
}
