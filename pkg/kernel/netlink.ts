/**
 * A typed rtnetlink handle bound to one network namespace: links, addresses, routes, ARP/NDP neighbours and
 * bridge FDB entries. Each method is one kernel request and says which iproute2 command it equals; failures
 * are KernelErrors carrying the operation, the object and the errno. Decisions (what should exist, whether
 * EEXIST is fine) belong to callers; this layer only carries them out.
 */
import { NLM_F, RTM, RT_TABLE } from '../rtnl/constants.ts';
import type { RawMessage } from '../rtnl/message.ts';
import { decodeAddr, encodeAddr, encodeAddrDump, type Addr, type AddrSpec } from '../rtnl/addr.ts';
import {
  decodeLink,
  encodeLinkChange,
  encodeLinkDump,
  encodeLinkRef,
  encodeNewLink,
  type Link,
  type LinkChange,
  type NewLinkSpec,
  type VxlanSpec,
} from '../rtnl/link.ts';
import {
  decodeNeigh,
  encodeFdb,
  encodeNeigh,
  encodeNeighDump,
  type FdbEntry,
  type FdbSpec,
  type Neigh,
  type NeighSpec,
} from '../rtnl/neigh.ts';
import { decodeRoute, encodeRoute, encodeRouteDump, type Route, type RouteSpec } from '../rtnl/route.ts';
import type { Family } from '../netaddr/ip.ts';
import { ErrnoError, KernelError } from './errors.ts';
import { assertIfName } from './ifname.ts';
import { withNetns, type Netns } from './netns.ts';
import { RtSocket } from './socket.ts';
import { readSysctl, writeSysctl } from './sysctl.ts';

export type LinkRef = string | number;

export interface VethSpec {
  readonly name: string;
  readonly mtu?: number;
  readonly mac?: string;
  readonly peer: { readonly name: string; readonly netns?: Netns; readonly mtu?: number; readonly mac?: string };
}

export type VxlanLinkSpec = Omit<VxlanSpec, 'type'> & { readonly name: string; readonly mtu?: number; readonly mac?: string };

const CREATE_EXCL = NLM_F.CREATE | NLM_F.EXCL;
const CREATE_REPLACE = NLM_F.CREATE | NLM_F.REPLACE;

export class Netlink {
  readonly #sock: RtSocket;
  /** Where this handle points, for error messages: "" for the caller's own namespace. */
  readonly #where: string;
  readonly #netns: Netns | undefined;

  private constructor(sock: RtSocket, netns: Netns | undefined) {
    this.#sock = sock;
    this.#netns = netns;
    this.#where = netns ? ` in ${netns.path}` : '';
  }

  /** A handle in `netns`, or in the caller's current namespace. The socket is opened synchronously there. */
  static open(opts: { netns?: Netns } = {}): Netlink {
    const { netns } = opts;
    const sock = netns ? withNetns(netns, () => RtSocket.open()) : RtSocket.open();
    return new Netlink(sock, netns);
  }

  close(): void {
    this.#sock.close();
  }

  /** `sysctl -n net.…` in this handle's namespace (a key in slash form: `net/ipv4/ip_forward`). */
  readSysctl(key: string): string {
    return readSysctl(key, this.#netns ? { netns: this.#netns } : {});
  }

  /** `sysctl -w net.…=value` in this handle's namespace. */
  writeSysctl(key: string, value: string): void {
    writeSysctl(key, value, this.#netns ? { netns: this.#netns } : {});
  }

  /** The underlying socket, for subscribing to notifications. */
  get socket(): RtSocket {
    return this.#sock;
  }

  async #call<T>(op: string, object: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ErrnoError) throw new KernelError(op, `${object}${this.#where}`, e.errno);
      throw e;
    }
  }

  // ---- links -------------------------------------------------------------------------------------

  /** `ip link show` */
  async listLinks(): Promise<Link[]> {
    const msgs = await this.#call('list', 'links', () => this.#sock.dump(RTM.GETLINK, encodeLinkDump()));
    return msgs.filter((m) => m.type === RTM.NEWLINK).map((m) => decodeLink(m.payload));
  }

  /** `ip link show dev REF`; a KernelError (ENODEV) when there is no such link. */
  async getLink(ref: LinkRef): Promise<Link> {
    if (typeof ref === 'string') assertIfName(ref);
    const payload = encodeLinkRef(typeof ref === 'number' ? { index: ref } : { name: ref });
    const msgs = await this.#call('get', `link ${describe(ref)}`, () => this.#sock.request(RTM.GETLINK, 0, payload));
    const m = msgs.find((x) => x.type === RTM.NEWLINK);
    if (!m) throw new KernelError('get', `link ${describe(ref)}${this.#where}`, 19);
    return decodeLink(m.payload);
  }

  /** Like getLink, but undefined when the link does not exist. */
  async findLink(ref: LinkRef): Promise<Link | undefined> {
    try {
      return await this.getLink(ref);
    } catch (e) {
      if (e instanceof KernelError && e.errnoName === 'ENODEV') return undefined;
      throw e;
    }
  }

  /** `ip link add NAME type KIND ...`; EEXIST when the name is taken. Returns the new link. */
  async addLink(spec: NewLinkSpec): Promise<Link> {
    assertIfName(spec.name);
    if (spec.kind.type === 'veth') assertIfName(spec.kind.peer.name);
    await this.#call('add', `${spec.kind.type} ${describe(spec.name)}`, () =>
      this.#sock.request(RTM.NEWLINK, CREATE_EXCL, encodeNewLink(spec)),
    );
    return spec.netnsFd === undefined ? this.getLink(spec.name) : ({ name: spec.name } as Link);
  }

  /**
   * `ip link add NAME type veth peer name PEER netns NS`: the peer is created directly inside the target
   * namespace under its final name, so a container never sees a temporary interface.
   */
  addVeth(spec: VethSpec): Promise<Link> {
    const peer = spec.peer;
    return this.addLink({
      name: spec.name,
      ...(spec.mtu !== undefined && { mtu: spec.mtu }),
      ...(spec.mac !== undefined && { mac: spec.mac }),
      kind: {
        type: 'veth',
        peer: {
          name: peer.name,
          ...(peer.mtu !== undefined && { mtu: peer.mtu }),
          ...(peer.mac !== undefined && { mac: peer.mac }),
          ...(peer.netns !== undefined && { netnsFd: peer.netns.fd }),
        },
      },
    });
  }

  /** `ip link add NAME type bridge` */
  addBridge(spec: { readonly name: string; readonly mtu?: number; readonly mac?: string }): Promise<Link> {
    return this.addLink({ ...spec, kind: { type: 'bridge' } });
  }

  /** `ip link add NAME type vxlan id VNI [local IP] [dev IF] [dstport N] [nolearning] [ttl N]` */
  addVxlan(spec: VxlanLinkSpec): Promise<Link> {
    const { name, mtu, mac, ...vx } = spec;
    return this.addLink({ name, ...(mtu !== undefined && { mtu }), ...(mac !== undefined && { mac }), kind: { type: 'vxlan', ...vx } });
  }

  /** `ip link set dev INDEX [name N] [mtu N] [address MAC] [up|down] [master BR|nomaster] [netns NS] [type bridge_slave hairpin on]` */
  async setLink(change: LinkChange): Promise<void> {
    if (change.name !== undefined) assertIfName(change.name);
    await this.#call('set', `link ${change.index}`, () => this.#sock.request(RTM.NEWLINK, 0, encodeLinkChange(change)));
  }

  setUp(index: number): Promise<void> {
    return this.setLink({ index, up: true });
  }

  setDown(index: number): Promise<void> {
    return this.setLink({ index, up: false });
  }

  /** `ip link set dev INDEX master BRIDGE` (0 = nomaster) */
  setMaster(index: number, master: number): Promise<void> {
    return this.setLink({ index, master });
  }

  /** `ip link set dev INDEX netns NS` */
  moveToNetns(index: number, netns: Netns): Promise<void> {
    return this.setLink({ index, netnsFd: netns.fd });
  }

  /** `ip link del dev REF`; ENODEV when it is already gone. */
  async deleteLink(ref: LinkRef): Promise<void> {
    if (typeof ref === 'string') assertIfName(ref);
    const payload = encodeLinkRef(typeof ref === 'number' ? { index: ref } : { name: ref });
    await this.#call('delete', `link ${describe(ref)}`, () => this.#sock.request(RTM.DELLINK, 0, payload));
  }

  // ---- addresses ---------------------------------------------------------------------------------

  /** `ip addr show [dev INDEX]` */
  async listAddrs(filter: { index?: number; family?: Family } = {}): Promise<Addr[]> {
    const msgs = await this.#call('list', 'addresses', () => this.#sock.dump(RTM.GETADDR, encodeAddrDump(filter.family)));
    return decodeAll(msgs, RTM.NEWADDR, decodeAddr).filter((a) => filter.index === undefined || a.index === filter.index);
  }

  /** `ip addr add CIDR dev INDEX`; EEXIST when present. */
  async addAddr(spec: AddrSpec): Promise<void> {
    await this.#call('add', `address ${spec.cidr} on link ${spec.index}`, () =>
      this.#sock.request(RTM.NEWADDR, CREATE_EXCL, encodeAddr(spec)),
    );
  }

  /** `ip addr replace CIDR dev INDEX` */
  async replaceAddr(spec: AddrSpec): Promise<void> {
    await this.#call('replace', `address ${spec.cidr} on link ${spec.index}`, () =>
      this.#sock.request(RTM.NEWADDR, CREATE_REPLACE, encodeAddr(spec)),
    );
  }

  /** `ip addr del CIDR dev INDEX`; EADDRNOTAVAIL when absent. */
  async deleteAddr(spec: AddrSpec): Promise<void> {
    await this.#call('delete', `address ${spec.cidr} on link ${spec.index}`, () => this.#sock.request(RTM.DELADDR, 0, encodeAddr(spec)));
  }

  // ---- routes ------------------------------------------------------------------------------------

  /** `ip route show [table T]`: main table by default, cached routes left out. */
  async listRoutes(filter: { family?: Family; table?: number; oif?: number } = {}): Promise<Route[]> {
    const table = filter.table ?? RT_TABLE.MAIN;
    const msgs = await this.#call('list', 'routes', () => this.#sock.dump(RTM.GETROUTE, encodeRouteDump(filter.family)));
    return decodeAll(msgs, RTM.NEWROUTE, decodeRoute).filter(
      (r) => !r.cloned && r.table === table && (filter.oif === undefined || r.oif === filter.oif),
    );
  }

  /** `ip route add ...`; EEXIST when a route to the same destination exists. */
  async addRoute(spec: RouteSpec): Promise<void> {
    await this.#call('add', `route ${describeRoute(spec)}`, () => this.#sock.request(RTM.NEWROUTE, CREATE_EXCL, encodeRoute(spec)));
  }

  /** `ip route replace ...` */
  async replaceRoute(spec: RouteSpec): Promise<void> {
    await this.#call('replace', `route ${describeRoute(spec)}`, () => this.#sock.request(RTM.NEWROUTE, CREATE_REPLACE, encodeRoute(spec)));
  }

  /** `ip route del ...`; ESRCH when absent. */
  async deleteRoute(spec: RouteSpec): Promise<void> {
    await this.#call('delete', `route ${describeRoute(spec)}`, () => this.#sock.request(RTM.DELROUTE, 0, encodeRoute(spec, 'delete')));
  }

  // ---- neighbours (ARP / NDP) --------------------------------------------------------------------

  /** `ip neigh show [dev INDEX]` */
  async listNeighs(filter: { index?: number; family?: Family } = {}): Promise<Neigh[]> {
    const msgs = await this.#call('list', 'neighbours', () => this.#sock.dump(RTM.GETNEIGH, encodeNeighDump(filter.family)));
    const out: Neigh[] = [];
    for (const m of msgs) {
      const d = m.type === RTM.NEWNEIGH ? decodeNeigh(m.payload) : undefined;
      if (d?.kind === 'neigh' && (filter.index === undefined || d.neigh.index === filter.index)) out.push(d.neigh);
    }
    return out;
  }

  /** `ip neigh replace IP lladdr MAC dev INDEX nud permanent` */
  async setNeigh(spec: NeighSpec): Promise<void> {
    await this.#call('set', `neighbour ${spec.ip} on link ${spec.index}`, () =>
      this.#sock.request(RTM.NEWNEIGH, CREATE_REPLACE, encodeNeigh(spec)),
    );
  }

  /** `ip neigh add IP lladdr MAC dev INDEX nud permanent`; EEXIST when present. */
  async addNeigh(spec: NeighSpec): Promise<void> {
    await this.#call('add', `neighbour ${spec.ip} on link ${spec.index}`, () =>
      this.#sock.request(RTM.NEWNEIGH, CREATE_EXCL, encodeNeigh(spec)),
    );
  }

  /** `ip neigh del IP dev INDEX`; ENOENT when absent. */
  async deleteNeigh(spec: NeighSpec): Promise<void> {
    await this.#call('delete', `neighbour ${spec.ip} on link ${spec.index}`, () => this.#sock.request(RTM.DELNEIGH, 0, encodeNeigh(spec)));
  }

  // ---- bridge FDB --------------------------------------------------------------------------------

  /** `bridge fdb show [dev INDEX]` */
  async listFdb(filter: { index?: number } = {}): Promise<FdbEntry[]> {
    const msgs = await this.#call('list', 'fdb entries', () => this.#sock.dump(RTM.GETNEIGH, encodeNeighDump('bridge')));
    const out: FdbEntry[] = [];
    for (const m of msgs) {
      const d = m.type === RTM.NEWNEIGH ? decodeNeigh(m.payload) : undefined;
      if (d?.kind === 'fdb' && (filter.index === undefined || d.fdb.index === filter.index)) out.push(d.fdb);
    }
    return out;
  }

  /** `bridge fdb add MAC dev INDEX dst IP self permanent`; EEXIST when present. */
  async addFdb(spec: FdbSpec): Promise<void> {
    await this.#call('add', `fdb ${spec.mac} on link ${spec.index}`, () => this.#sock.request(RTM.NEWNEIGH, CREATE_EXCL, encodeFdb(spec)));
  }

  /** `bridge fdb replace MAC dev INDEX dst IP self permanent` */
  async replaceFdb(spec: FdbSpec): Promise<void> {
    await this.#call('replace', `fdb ${spec.mac} on link ${spec.index}`, () =>
      this.#sock.request(RTM.NEWNEIGH, CREATE_REPLACE, encodeFdb(spec)),
    );
  }

  /** `bridge fdb del MAC dev INDEX [dst IP] self`; ENOENT when absent. */
  async deleteFdb(spec: FdbSpec): Promise<void> {
    await this.#call('delete', `fdb ${spec.mac} on link ${spec.index}`, () => this.#sock.request(RTM.DELNEIGH, 0, encodeFdb(spec)));
  }
}

function decodeAll<T>(msgs: RawMessage[], type: number, decode: (p: Buffer) => T | undefined): T[] {
  const out: T[] = [];
  for (const m of msgs) {
    if (m.type !== type) continue;
    const v = decode(m.payload);
    if (v !== undefined) out.push(v);
  }
  return out;
}

const describe = (ref: LinkRef): string => (typeof ref === 'number' ? `${ref}` : `"${ref}"`);

function describeRoute(r: RouteSpec): string {
  return [r.dst, r.gateway && `via ${r.gateway}`, r.oif !== undefined && `dev ${r.oif}`, r.onlink && 'onlink'].filter(Boolean).join(' ');
}
