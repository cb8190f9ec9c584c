/**
 * An in-memory kernel for the agent's unit tests: links (vxlan, bridge, and plain ports), addresses,
 * neighbours, FDB entries, routes and sysctls, with the kernel's answers where the agent depends on them
 * (EEXIST for a second address, ENODEV/ENOENT for what is gone, a deleted link taking its addresses,
 * entries and routes with it, and its ports losing their master). Tests break it behind the agent's back and
 * tell the agent with `event`. Only an input to the agent's tests: the real kernel layer is tested in netns.
 */
import { KernelError } from '../../kernel/errors.ts';
import type { KernelOps } from '../../kernel/mod.ts';
import type { Addr, AddrSpec } from '../../rtnl/addr.ts';
import type { Link, LinkChange, VxlanInfo } from '../../rtnl/link.ts';
import type { FdbEntry, FdbSpec, Neigh, NeighSpec } from '../../rtnl/neigh.ts';
import type { Route, RouteSpec } from '../../rtnl/route.ts';
import { type Family, familyOf } from '../../netaddr/family.ts';

const ERRNO = { EEXIST: 17, ENODEV: 19, ENOENT: 2 } as const;
const fail = (op: string, what: string, errno: keyof typeof ERRNO) => new KernelError(op, what, ERRNO[errno]);

type MutableLink = { -readonly [K in keyof Link]: Link[K] };

export class FakeKernel implements KernelOps {
  readonly links = new Map<number, MutableLink>();
  addrs: Addr[] = [];
  neighs: Neigh[] = [];
  fdb: FdbEntry[] = [];
  routes: Route[] = [];
  /** Neighbour, FDB and route dumps taken (issue 28: a lease change must not need one). */
  dumps = 0;
  readonly sysctls = new Map<string, string>([['net/ipv4/ip_forward', '1']]);
  #next = 10;

  /** A plain device (the underlay's eth0, or a container's host end). */
  addPlain(name: string, o: { mtu?: number; master?: number } = {}): Link {
    return this.#add({ name, kind: 'veth', mtu: o.mtu ?? 1500, master: o.master });
  }

  #add(o: { name: string; kind: string; mtu: number; mac?: string | undefined; master?: number | undefined; vxlan?: VxlanInfo }): Link {
    if ([...this.links.values()].some((l) => l.name === o.name)) throw fail('add link', o.name, 'EEXIST');
    const index = this.#next++;
    const link: MutableLink = {
      index,
      name: o.name,
      mtu: o.mtu,
      mac: o.mac ?? `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`,
      flags: 0,
      up: false,
      operstate: 'down',
      master: o.master,
      kind: o.kind,
      parentIndex: undefined,
      linkNetnsid: undefined,
      vxlan: o.vxlan,
      bridgePort: undefined,
    };
    this.links.set(index, link);
    return { ...link };
  }

  #link(ref: string | number): MutableLink | undefined {
    return typeof ref === 'number' ? this.links.get(ref) : [...this.links.values()].find((l) => l.name === ref);
  }

  async findLink(ref: string | number): Promise<Link | undefined> {
    const l = this.#link(ref);
    return l && { ...l };
  }

  async getLink(ref: string | number): Promise<Link> {
    const l = this.#link(ref);
    if (!l) throw fail('get link', String(ref), 'ENODEV');
    return { ...l };
  }

  async listLinks(): Promise<Link[]> {
    return [...this.links.values()].map((l) => ({ ...l }));
  }

  async addVxlan(s: Parameters<KernelOps['addVxlan']>[0]): Promise<Link> {
    const vxlan: VxlanInfo = {
      vni: s.vni,
      port: s.port ?? 8472,
      local: s.local,
      group: undefined,
      dev: s.dev,
      learning: s.learning ?? false,
      ttl: 0,
      tos: 0,
      ageing: undefined,
      proxy: false,
      l2miss: false,
      l3miss: false,
      udpCsum: undefined,
      gbp: s.gbp ?? false,
    };
    return this.#add({ name: s.name, kind: 'vxlan', mtu: s.mtu ?? 1450, mac: s.mac, vxlan });
  }

  async addBridge(s: { readonly name: string; readonly mtu?: number; readonly mac?: string }): Promise<Link> {
    return this.#add({ name: s.name, kind: 'bridge', mtu: s.mtu ?? 1500, mac: s.mac });
  }

  async setLink(c: LinkChange): Promise<void> {
    const l = this.#link(c.index);
    if (!l) throw fail('set link', String(c.index), 'ENODEV');
    if (c.mtu !== undefined) l.mtu = c.mtu;
    if (c.mac !== undefined) l.mac = c.mac;
    if (c.master !== undefined) l.master = c.master;
    if (c.up !== undefined) l.up = c.up;
  }

  setMaster(index: number, master: number): Promise<void> {
    return this.setLink({ index, master });
  }

  setUp(index: number): Promise<void> {
    return this.setLink({ index, up: true });
  }

  setDown(index: number): Promise<void> {
    return this.setLink({ index, up: false });
  }

  async deleteLink(ref: string | number): Promise<void> {
    const l = this.#link(ref);
    if (!l) throw fail('delete link', String(ref), 'ENODEV');
    this.links.delete(l.index);
    this.addrs = this.addrs.filter((a) => a.index !== l.index);
    this.neighs = this.neighs.filter((n) => n.index !== l.index);
    this.fdb = this.fdb.filter((f) => f.index !== l.index);
    this.routes = this.routes.filter((r) => r.oif !== l.index);
    for (const p of this.links.values()) if (p.master === l.index) p.master = undefined;
  }

  async listAddrs(f: { index?: number; family?: Family } = {}): Promise<Addr[]> {
    return this.addrs.filter((a) => (f.index === undefined || a.index === f.index) && (f.family === undefined || a.family === f.family));
  }

  async addAddr(s: AddrSpec): Promise<void> {
    if (this.addrs.some((a) => a.index === s.index && a.cidr === s.cidr)) throw fail('add address', s.cidr, 'EEXIST');
    const [address, prefix] = s.cidr.split('/');
    this.addrs.push({
      index: s.index,
      family: familyOf(s.cidr),

      address: address!,
      prefix: Number(prefix),
      cidr: s.cidr,
      scope: 0,
      flags: 0,
      label: undefined,
      tentative: false,
      dadFailed: false,
    });
  }

  async deleteAddr(s: AddrSpec): Promise<void> {
    this.addrs = this.addrs.filter((a) => !(a.index === s.index && a.cidr === s.cidr));
  }

  async listNeighs(f: { index?: number } = {}): Promise<Neigh[]> {
    this.dumps++;
    return this.neighs.filter((n) => f.index === undefined || n.index === f.index);
  }

  async setNeigh(s: NeighSpec): Promise<void> {
    this.neighs = [
      ...this.neighs.filter((n) => !(n.index === s.index && n.ip === s.ip)),
      { index: s.index, family: 4, ip: s.ip, mac: s.mac, state: 0x80, flags: 0, permanent: true },
    ];
  }

  async deleteNeigh(s: NeighSpec): Promise<void> {
    if (!this.neighs.some((n) => n.index === s.index && n.ip === s.ip)) throw fail('delete neighbour', s.ip, 'ENOENT');
    this.neighs = this.neighs.filter((n) => !(n.index === s.index && n.ip === s.ip));
  }

  async listFdb(f: { index?: number } = {}): Promise<FdbEntry[]> {
    this.dumps++;
    return this.fdb.filter((e) => f.index === undefined || e.index === f.index);
  }

  async replaceFdb(s: FdbSpec): Promise<void> {
    this.fdb = [
      ...this.fdb.filter((e) => !(e.index === s.index && e.mac === s.mac)),
      {
        index: s.index,
        mac: s.mac,
        dst: s.dst,
        vni: undefined,
        vlan: undefined,
        master: undefined,
        state: 0x80,
        flags: 0x02,
        self: true,
      } as FdbEntry,
    ];
  }

  async deleteFdb(s: FdbSpec): Promise<void> {
    if (!this.fdb.some((e) => e.index === s.index && e.mac === s.mac)) throw fail('delete fdb entry', s.mac, 'ENOENT');
    this.fdb = this.fdb.filter((e) => !(e.index === s.index && e.mac === s.mac));
  }

  async listRoutes(): Promise<Route[]> {
    this.dumps++;
    return this.routes;
  }

  async replaceRoute(s: RouteSpec): Promise<void> {
    const r = {
      family: 4,
      dst: s.dst,
      gateway: s.gateway,
      oif: s.oif,
      onlink: s.onlink ?? false,
      table: 254,
      protocol: 3,
      scope: 0,
      type: 1,
      metric: undefined,
      prefsrc: undefined,
      mtu: undefined,
      advmss: undefined,
      cloned: false,
    } as Route;
    this.routes = [...this.routes.filter((x) => x.dst !== s.dst), r];
  }

  async deleteRoute(s: RouteSpec): Promise<void> {
    if (!this.routes.some((r) => r.dst === s.dst)) throw fail('delete route', s.dst, 'ENOENT');
    this.routes = this.routes.filter((r) => r.dst !== s.dst);
  }

  readSysctl(key: string): string {
    return this.sysctls.get(key) ?? '0';
  }

  writeSysctl(key: string, value: string): void {
    this.sysctls.set(key, value);
  }
}
