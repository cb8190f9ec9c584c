/**
 * weft as Docker's network driver and IPAM driver `weft` (libnetwork's remote API). A Docker network of
 * driver weft is a weft network: created once in etcd whichever way it starts (`docker network create -d
 * weft` here, `weft network create` or Docker on another host), present in every host's Docker through the
 * mirror. Addresses come from this host's lease of the network through the CNI plugin's own address store,
 * so Docker and CNI containers on one host never share one; endpoints are attached as the CNI ADD attaches
 * (endpoint.ts) and registered by their Docker name for DNS and inspect on every host.
 *
 * The plugin API names neither networks nor containers, so the names come from the local Docker: a network
 * created here is known by its range at CreateNetwork and adopted under its name as soon as Docker lists
 * it; a joining container's name is in Docker's view of the network while it joins.
 */
import { parseAttachConfig, type AttachConfig } from '../attach/config.ts';
import { loadLease } from '../attach/lease.ts';
import { macForIPv4 } from '../attach/names.ts';
import { networkState, type AttachmentRecord, type NetworkState } from '../contract/mod.ts';
import { messageOf, WeftError } from '../errors/mod.ts';
import { allocate, DOCKER_IPAM_OWNER, prefixLen } from '../ipam/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import { containsIP, overlaps, parseAddr, parseNetwork } from '../netaddr/cidr.ts';
import { firstAddress, type CreateRequest, type Endpoint, type NetworkMeta } from '../networks/mod.ts';
import { DockerUnreachable, type DockerEngine } from './engine.ts';
import { dockerRecordOf, joinEndpoint, leaveEndpoint, nameEndpoint, type Joiner } from './endpoint.ts';
import { portMappings, runPortmap } from './ports.ts';
import {
  canonicalPool,
  GATEWAY_REQUEST,
  networkOptions,
  networkRange,
  poolId,
  subnetOfPool,
  type CreateNetworkRequest,
  type NetworkOptions,
} from './protocol.ts';

/** What the plugin needs of the daemon's named networks (pkg/daemon's NetworkManager). */
export interface WeftNetworks {
  metas(): readonly NetworkMeta[];
  served(id: string): { readonly gateway: string } | undefined;
  conflist(meta: NetworkMeta): Record<string, unknown>;
  create(req: CreateRequest): Promise<NetworkMeta>;
  remove(ref: string): Promise<NetworkMeta>;
  register(
    ref: string,
    input: { name: string; aliases: readonly string[]; containerID: string; ifname: string; address: string; mac: string },
  ): Promise<Endpoint>;
  unregister(ref: string, name: string, containerID: string | undefined): Promise<boolean>;
}

/** How long a request waits for a network Docker just made to be adopted and leased on this host. */
const READY_MS = 30_000;
/** How long a Join waits for Docker to say who joins, and how long it is asked afterwards. */
const JOIN_ASK_MS = 2000;
const NAME_LATER_MS = 300_000;

type Body = Readonly<Record<string, unknown>>;
const s = (b: Body, k: string): string => (typeof b[k] === 'string' ? (b[k] as string) : '');

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new WeftError('WEFT_TRY_AGAIN', `${what}; try again later`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class DockerPlugin {
  readonly #nets: WeftNetworks;
  readonly #engine: DockerEngine;
  readonly #nl: Netlink;
  readonly #log: Logger;
  /** Docker network ID -> weft network name, as learnt. */
  readonly #names = new Map<string, string>();
  /** Adoptions of networks created here by Docker, until the weft network exists. */
  readonly #adopting = new Map<string, Promise<void>>();
  /** Docker networks that cannot be weft networks (a clash found after CreateNetwork), and why. */
  readonly #broken = new Map<string, string>();
  /** Ranges the mirror is creating in Docker right now, with their weft network's name. */
  readonly expected = new Map<string, string>();
  /** Docker network IDs the mirror is removing (their weft network is gone). */
  readonly removing = new Set<string>();
  /** Endpoints between CreateEndpoint and Leave: their network and address. */
  readonly #joining = new Map<string, { network: string; address: string }>();
  /** Docker did not answer a Join's question; cleared by the mirror's next answered pass. */
  dockerSilent = false;

  constructor(deps: { networks: WeftNetworks; engine: DockerEngine; nl: Netlink; log: Logger }) {
    this.#nets = deps.networks;
    this.#engine = deps.engine;
    this.#nl = deps.nl;
    this.#log = deps.log;
  }

  /** Docker network IDs still being adopted (the mirror must not take them for leftovers). */
  get adopting(): ReadonlySet<string> {
    return new Set(this.#adopting.keys());
  }

  /** Calls by method name (`NetworkDriver.Join`); the answer's body, or a WeftError for Docker's `Err`. */
  async handle(method: string, b: Body): Promise<unknown> {
    switch (method) {
      case 'Plugin.Activate':
        return { Implements: ['NetworkDriver', 'IpamDriver'] };
      case 'NetworkDriver.GetCapabilities':
        return { Scope: 'local', ConnectivityScope: 'global' };
      case 'NetworkDriver.CreateNetwork':
        return this.#createNetwork(b as unknown as CreateNetworkRequest);
      case 'NetworkDriver.DeleteNetwork':
        return this.#deleteNetwork(s(b, 'NetworkID'));
      case 'NetworkDriver.CreateEndpoint':
        return this.#createEndpoint(b);
      case 'NetworkDriver.Join':
        return this.#join(b);
      case 'NetworkDriver.Leave':
      case 'NetworkDriver.DeleteEndpoint':
        return this.#leave(s(b, 'EndpointID'));
      case 'NetworkDriver.EndpointOperInfo':
        return { Value: {} };
      case 'NetworkDriver.ProgramExternalConnectivity':
        return this.#publish(s(b, 'EndpointID'), b.Options as Body | undefined);
      case 'NetworkDriver.RevokeExternalConnectivity':
        return this.#unpublish(s(b, 'EndpointID'));
      case 'NetworkDriver.DiscoverNew':
      case 'NetworkDriver.DiscoverDelete':
        return {};
      case 'IpamDriver.GetCapabilities':
        return { RequiresMACAddress: false };
      case 'IpamDriver.GetDefaultAddressSpaces':
        return { LocalDefaultAddressSpace: 'weft', GlobalDefaultAddressSpace: 'weft' };
      case 'IpamDriver.RequestPool':
        return this.#requestPool(b);
      case 'IpamDriver.ReleasePool':
        return {};
      case 'IpamDriver.RequestAddress':
        return this.#requestAddress(b);
      case 'IpamDriver.ReleaseAddress':
        return this.#releaseAddress(b);
      default:
        throw new WeftError('WEFT_NOT_FOUND', `weft does not implement ${method}`);
    }
  }

  // ---- networks

  #metaByName = (name: string) => this.#nets.metas().find((m) => m.Name === name);
  #metaBySubnet = (subnet: string) => this.#nets.metas().find((m) => m.Subnet === subnet);

  /** Refuses a range that overlaps a weft network other than the one with exactly that range. */
  #checkOverlap(subnet: string): void {
    const p = parseNetwork(subnet);
    if (!p.ok) return;
    for (const m of this.#nets.metas()) {
      const q = parseNetwork(m.Subnet);
      if (q.ok && m.Subnet !== subnet && overlaps(p.value, q.value))
        throw new WeftError('WEFT_INVALID_CONFIG', `subnet ${subnet} overlaps with weft network ${m.Name} (${m.Subnet})`);
    }
  }

  #createNetwork(req: CreateNetworkRequest): object {
    const subnet = networkRange(req);
    const opts = networkOptions(req.Options);
    const id = req.NetworkID;
    const expected = this.expected.get(subnet);
    if (expected !== undefined) {
      this.#names.set(id, expected);
      return {};
    }
    this.#checkOverlap(subnet);
    const adoption = this.#adopt(id, subnet, opts)
      .catch((e: unknown) => {
        this.#broken.set(id, messageOf(e));
        this.#log.error(`Docker network ${id.slice(0, 12)} cannot be a weft network: ${messageOf(e)}; remove it with docker network rm`);
      })
      .finally(() => this.#adopting.delete(id));
    this.#adopting.set(id, adoption);
    return {};
  }

  /** A network `docker network create` made here becomes the weft network of its name (made, or joined if it exists). */
  async #adopt(id: string, subnet: string, opts: NetworkOptions): Promise<void> {
    const d = await waitFor(`Docker does not list network ${id.slice(0, 12)}`, () => this.#engine.network(id), READY_MS);
    const have = this.#metaByName(d.Name);
    if (have && have.Subnet !== subnet)
      throw new WeftError('WEFT_INVALID_CONFIG', `weft network ${d.Name} exists with subnet ${have.Subnet}, not ${subnet}`);
    if (!have) {
      const made = await this.#nets.create({
        name: d.Name,
        subnet,
        vni: opts.vni,
        mtu: opts.mtu,
        hostSubnetLen: opts.hostSubnetLen,
      });
      this.#log.info('created weft network from docker network create', { network: made.Name, subnet, id: made.Id.slice(0, 12) });
    } else this.#log.info('Docker network joins the existing weft network', { network: d.Name, subnet });
    this.#names.set(id, d.Name);
  }

  /** The weft network behind a Docker network ID, once adopted (waited for) and known on this host. */
  async #network(id: string): Promise<NetworkMeta> {
    await this.#adopting.get(id);
    const broken = this.#broken.get(id);
    if (broken) throw new WeftError('WEFT_INVALID_CONFIG', `this Docker network is not a weft network: ${broken}`);
    let name = this.#names.get(id);
    if (name === undefined) {
      const d = await this.#engine.network(id);
      if (!d) throw new WeftError('WEFT_NOT_FOUND', `Docker has no network ${id.slice(0, 12)}`);
      name = d.Name;
      this.#names.set(id, name);
    }
    const n = name;
    return waitFor(`weft network ${n} is not known on this host yet`, () => this.#metaByName(n), READY_MS);
  }

  /** Waits until this host has its lease of the network (the daemon writes the lease file then). */
  async #ready(meta: NetworkMeta): Promise<AttachConfig> {
    await waitFor(`network ${meta.Name} has no lease on this host yet`, () => this.#nets.served(meta.Id), READY_MS);
    return this.#configOf(meta);
  }

  /** The CNI plugin's configuration of the network on this host: Docker's endpoints share its state and bridge. */
  #configOf(meta: NetworkMeta): AttachConfig {
    return parseAttachConfig((this.#nets.conflist(meta).plugins as Array<Record<string, unknown>>)[0]!, new Map());
  }

  /**
   * `docker network rm` here removes the weft network as `weft network rm` does, when no host has containers
   * on it. Docker has already released the network's pools when it asks, and marks a network it cannot delete
   * as half-removed, so this never fails: a weft network still in use stays, and the mirror puts it back.
   */
  async #deleteNetwork(id: string): Promise<object> {
    await this.#adopting.get(id);
    const name = this.#names.get(id);
    this.#names.delete(id);
    if (this.removing.has(id) || this.#broken.delete(id) || name === undefined || !this.#metaByName(name)) return {};
    try {
      await this.#nets.remove(name);
      this.#log.info('removed weft network (docker network rm on this host)', { network: name });
    } catch (e) {
      this.#log.warn(`docker network rm ${name}: the weft network stays (${messageOf(e)}); it is put back in this host's Docker`);
    }
    return {};
  }

  // ---- endpoints

  /**
   * The network is known from the endpoint's address (weft's ranges do not overlap), not from Docker: at its
   * start dockerd restores containers before its API answers.
   */
  async #createEndpoint(b: Body): Promise<object> {
    const iface = (b.Interface ?? {}) as Body;
    const address = s(iface, 'Address');
    if (!address) throw new WeftError('WEFT_INVALID_CONFIG', 'the network gave no address: a weft network must use --ipam-driver weft');
    const ip = address.split('/')[0]!;
    const meta = this.#metaOfAddress(ip) ?? (await this.#network(s(b, 'NetworkID')));
    this.#names.set(s(b, 'NetworkID'), meta.Name);
    await this.#ready(meta);
    this.#joining.set(s(b, 'EndpointID'), { network: meta.Name, address });
    if (s(iface, 'MacAddress')) return {};
    return { Interface: { MacAddress: macForIPv4(ip) } };
  }

  #metaOfAddress(ip: string): NetworkMeta | undefined {
    const a = parseAddr(ip);
    return this.#nets.metas().find((m) => {
      const n = parseNetwork(m.Subnet);
      return a !== undefined && n.ok && containsIP(n.value, a.family, a.ip);
    });
  }

  /**
   * Who joins, from Docker's view of the network (the joining endpoint is in it, with the container's name).
   * undefined while Docker does not answer: after one such wait, Joins stop asking until the mirror's next
   * successful pass says Docker is back, so a dockerd restoring many containers is not held up by each.
   */
  async #whoJoins(netId: string, endpointID: string): Promise<Joiner | undefined> {
    if (this.dockerSilent) return undefined;
    try {
      const ep = Object.values((await this.#engine.network(netId, JOIN_ASK_MS))?.Containers ?? {}).find((c) => c.EndpointID === endpointID);
      if (!ep) return undefined;
      return { name: ep.Name, containerID: (await this.#engine.containerIdByName(ep.Name, JOIN_ASK_MS)) ?? endpointID };
    } catch (e) {
      if (!(e instanceof DockerUnreachable)) throw e;
      this.dockerSilent = true;
      return undefined;
    }
  }

  async #join(b: Body): Promise<object> {
    const netId = s(b, 'NetworkID');
    const endpointID = s(b, 'EndpointID');
    const known = this.#joining.get(endpointID) ?? (await this.#askEndpoint(netId, endpointID));
    const meta = this.#metaByName(known.network);
    if (!meta) throw new WeftError('WEFT_NOT_FOUND', `weft network ${known.network} is gone`);
    const cfg = await this.#ready(meta);
    const who = await this.#whoJoins(netId, endpointID);
    const input = (w: Joiner, mac: string) => ({
      name: w.name,
      aliases: [],
      containerID: w.containerID,
      ifname: endpointID,
      address: known.address,
      mac,
    });
    const answer = await joinEndpoint(
      {
        cfg,
        endpointID,
        who,
        address: known.address,
        sandboxKey: s(b, 'SandboxKey'),
        register: async (w, mac) => {
          await this.#nets.register(meta.Name, input(w, mac));
        },
        unregister: (w) => this.#nets.unregister(meta.Name, w.name, w.containerID),
      },
      this.#nl,
    );
    if (!who) void this.#nameLater(meta, cfg, netId, endpointID, known.address);
    return answer;
  }

  /** An endpoint created before this daemon started (it restarted in between): Docker knows its address. */
  async #askEndpoint(netId: string, endpointID: string): Promise<{ network: string; address: string }> {
    const meta = await this.#network(netId);
    const ep = Object.values((await this.#engine.network(netId))?.Containers ?? {}).find((c) => c.EndpointID === endpointID);
    const address = (ep as { IPv4Address?: string } | undefined)?.IPv4Address;
    if (!address) throw new WeftError('WEFT_DOCKER', `Docker does not show endpoint ${endpointID.slice(0, 12)} on network ${meta.Name}`);
    return { network: meta.Name, address };
  }

  /** Names an endpoint that joined unnamed, as soon as Docker says whose it is (given up after NAME_LATER_MS). */
  async #nameLater(meta: NetworkMeta, cfg: AttachConfig, netId: string, endpointID: string, address: string): Promise<void> {
    const until = Date.now() + NAME_LATER_MS;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      let who: Joiner | undefined;
      try {
        const ep = Object.values((await this.#engine.network(netId, JOIN_ASK_MS))?.Containers ?? {}).find(
          (c) => c.EndpointID === endpointID,
        );
        if (!ep) continue;
        who = { name: ep.Name, containerID: (await this.#engine.containerIdByName(ep.Name)) ?? endpointID };
      } catch {
        continue;
      }
      const w = who;
      try {
        const named = await nameEndpoint(cfg, endpointID, w, async (mac) => {
          await this.#nets.register(meta.Name, { name: w.name, aliases: [], containerID: w.containerID, ifname: endpointID, address, mac });
        });
        if (named) this.#log.info('named an endpoint that joined while Docker was starting', { network: meta.Name, name: w.name });
      } catch (e) {
        this.#log.error(`${w.name} joined ${meta.Name} without its name: ${messageOf(e)}`);
      }
      return;
    }
    this.#log.warn(`endpoint ${endpointID.slice(0, 12)} of ${meta.Name} stays without a name: Docker did not say whose it is`);
  }

  /** A Docker endpoint's record, found by its ID in every network's state (no Docker needed). */
  #recordOf(endpointID: string): { meta: NetworkMeta; state: NetworkState; record: AttachmentRecord } | undefined {
    for (const meta of this.#nets.metas()) {
      const state = networkState(this.#configOf(meta));
      const record = state.records.list().find((e) => e.ifname === endpointID && dockerRecordOf(e))?.record;
      if (record) return { meta, state, record };
    }
    return undefined;
  }

  /** `-p`: the endpoint's published ports, through the portmap plugin (ports.ts), kept in its record. */
  #publish(endpointID: string, options: Body | undefined): object {
    const mappings = portMappings(options);
    if (mappings.length === 0) return {};
    const found = this.#recordOf(endpointID);
    if (!found) throw new WeftError('WEFT_NOT_FOUND', `endpoint ${endpointID.slice(0, 12)} has not joined a weft network here`);
    const { meta, state, record } = found;
    runPortmap('ADD', { network: meta.Name, endpointID, sandboxKey: record.netns, address: record.ips[0]!, mappings });
    state.records.save({ ...record, ports: mappings });
    this.#log.info('published ports', {
      network: meta.Name,
      ports: mappings.map((m) => `${m.hostPort}->${m.containerPort}/${m.protocol}`).join(','),
    });
    return {};
  }

  #unpublish(endpointID: string): object {
    const found = this.#recordOf(endpointID);
    const ports = found?.record.ports;
    if (!found || !ports) return {};
    const { meta, state, record } = found;
    runPortmap('DEL', { network: meta.Name, endpointID, sandboxKey: record.netns, address: record.ips[0]!, mappings: ports });
    const { ports: _, ...rest } = record;
    state.records.save(rest);
    return {};
  }

  /** Leave and DeleteEndpoint find the endpoint's record by its ID in every network's state, without Docker. */
  async #leave(endpointID: string): Promise<object> {
    this.#joining.delete(endpointID);
    this.#unpublish(endpointID);
    for (const meta of this.#nets.metas()) {
      const cfg = this.#configOf(meta);
      await leaveEndpoint(cfg, endpointID, this.#nl, (n, cid) =>
        this.#nets.unregister(meta.Name, n, cid).catch((e: unknown) => {
          this.#log.warn(`cannot remove the name ${n} of ${meta.Name} now (${messageOf(e)}); the daemon retries`);
        }),
      );
    }
    return {};
  }

  // ---- addresses

  #requestPool(b: Body): object {
    if (b.V6 === true) throw new WeftError('WEFT_UNSUPPORTED_FIELD', 'weft networks do not serve IPv6 yet; drop --ipv6');
    if (!s(b, 'Pool'))
      throw new WeftError('WEFT_INVALID_CONFIG', 'a weft network needs its range up front: give --subnet (e.g. --subnet 10.10.10.0/24)');
    if (s(b, 'SubPool')) throw new WeftError('WEFT_UNSUPPORTED_FIELD', 'weft gives each host its own part of the subnet; drop --ip-range');
    const subnet = canonicalPool(s(b, 'Pool'));
    this.#checkOverlap(subnet);
    return { PoolID: poolId(subnet), Pool: subnet, Data: {} };
  }

  /**
   * The network's gateway (Docker asks for one at creation, before the network has a lease here) is the
   * range's first address, as `weft network inspect` shows; each host's own gateway reaches the container
   * in Join. Endpoint addresses come from this host's part of the range, with its prefix length.
   */
  async #requestAddress(b: Body): Promise<object> {
    const subnet = subnetOfPool(s(b, 'PoolID'));
    const len = subnet.split('/')[1]!;
    const want = s(b, 'Address') || undefined;
    const opts = (b.Options ?? {}) as Body;
    if (s(opts, 'RequestAddressType') === GATEWAY_REQUEST) return { Address: `${want ?? firstAddress(subnet)}/${len}`, Data: {} };
    const meta = await waitFor(`no weft network has subnet ${subnet} on this host yet`, () => this.#metaBySubnet(subnet), READY_MS);
    const cfg = await this.#ready(meta);
    const pool = loadLease(cfg.subnetFile).pools.find((p) => p.family === 4);
    if (!pool) throw new WeftError('WEFT_TRY_AGAIN', `network ${meta.Name} has no IPv4 lease on this host yet`);
    const ip = allocate(pool, networkState(cfg).addresses, DOCKER_IPAM_OWNER, want);
    return { Address: `${ip}/${prefixLen(pool)}`, Data: {} };
  }

  #releaseAddress(b: Body): object {
    const subnet = subnetOfPool(s(b, 'PoolID'));
    const meta = this.#metaBySubnet(subnet);
    if (!meta) return {};
    const cfg = this.#configOf(meta);
    networkState(cfg).addresses.release(s(b, 'Address'), DOCKER_IPAM_OWNER);
    return {};
  }
}
