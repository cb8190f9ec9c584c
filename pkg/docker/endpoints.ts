/**
 * The network driver's endpoints: CreateEndpoint, Join (endpoint.ts does the kernel and the record, with the
 * CNI ADD's code), Leave, and published ports. A Join asks Docker who joins (the plugin API does not say);
 * while Docker cannot answer (it restores containers at start before its API serves) the container joins
 * unnamed and is named as soon as Docker answers. Everything else comes without Docker: the network from
 * the endpoint's address, the endpoint's record from the networks' state directories.
 */
import { macForIPv4, type AttachConfig } from '../attach/mod.ts';
import { networkState, type AttachmentRecord, type NetworkState, type RecordEntry } from '../contract/mod.ts';
import { messageOf, WeftError } from '../errors/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { NetworkMeta } from '../networks/mod.ts';
import { DockerUnreachable, type DockerEngine } from './engine.ts';
import { dockerRecordOf, joinEndpoint, leaveEndpoint, nameEndpoint, type Joiner } from './endpoint.ts';
import { portMappings, runPortmap } from './ports.ts';
import { str, type Body, type NetworkView } from './view.ts';

/** How long a Join waits for Docker to say who joins, and how long it is asked afterwards. */
const JOIN_ASK_MS = 2000;
const NAME_LATER_MS = 300_000;

/** An endpoint's name record input: Docker's endpoint ID stands where CNI has the interface name. */
/** An endpoint's addresses as Docker's IPAM (weft's) gave them, with prefix lengths; `address6` with `--ipv6`. */
interface Addresses {
  readonly address: string;
  readonly address6: string | undefined;
}

const endpointInput = (w: Joiner, endpointID: string, a: Addresses, mac: string) => ({
  name: w.name,
  aliases: [],
  containerID: w.containerID,
  ifname: endpointID,
  address: a.address,
  ...(a.address6 && { address6: a.address6 }),
  mac,
});

/** An endpoint's record with where it was found. */
interface Found {
  readonly meta: NetworkMeta;
  readonly state: NetworkState;
  readonly entry: RecordEntry;
  readonly record: AttachmentRecord;
}

export interface EndpointDeps {
  readonly view: NetworkView;
  readonly engine: DockerEngine;
  readonly nl: Netlink;
  readonly log: Logger;
  /** The weft network behind a Docker network ID (the driver's networks part knows, or asks Docker). */
  readonly network: (dockerId: string) => Promise<NetworkMeta>;
  /** Tells the driver which weft network a Docker network ID is. */
  readonly learn: (dockerId: string, network: string) => void;
}

export class DockerEndpoints {
  readonly #view: NetworkView;
  readonly #engine: DockerEngine;
  readonly #nl: Netlink;
  readonly #log: Logger;
  readonly #network: EndpointDeps['network'];
  readonly #learn: EndpointDeps['learn'];
  /** Endpoints between CreateEndpoint and Leave: their network, addresses and the MAC Docker gave, if it did. */
  readonly #joining = new Map<string, { network: string; mac?: string | undefined } & Addresses>();
  /** Docker did not answer a Join's question; cleared by the mirror's next answered pass. */
  dockerSilent = false;

  constructor(d: EndpointDeps) {
    this.#view = d.view;
    this.#engine = d.engine;
    this.#nl = d.nl;
    this.#log = d.log;
    this.#network = d.network;
    this.#learn = d.learn;
  }

  /**
   * The network is known from the endpoint's address (weft's ranges do not overlap), not from Docker: at its
   * start dockerd restores containers before its API answers.
   */
  async create(b: Body): Promise<object> {
    const iface = (b.Interface ?? {}) as Body;
    const address = str(iface, 'Address');
    if (!address) throw new WeftError('WEFT_INVALID_CONFIG', 'the network gave no address: a weft network must use --ipam-driver weft');
    const ip = address.split('/')[0]!;
    const meta = this.#view.byAddress(ip) ?? (await this.#network(str(b, 'NetworkID')));
    this.#learn(str(b, 'NetworkID'), meta.Name);
    await this.#view.ready(meta);
    const mac = str(iface, 'MacAddress') || undefined;
    this.#joining.set(str(b, 'EndpointID'), { network: meta.Name, address, address6: str(iface, 'AddressIPv6') || undefined, mac });
    if (mac) return {};
    return { Interface: { MacAddress: macForIPv4(ip) } };
  }

  /**
   * Who joins, from Docker's view of the network (the joining endpoint is in it, with the container's name).
   * undefined while Docker does not answer: after one such wait, Joins stop asking until the mirror's next
   * successful pass says Docker is back, so a dockerd restoring many containers is not held up by each.
   */
  async #whoJoins(netId: string, endpointID: string): Promise<Joiner | undefined> {
    if (this.dockerSilent) return undefined;
    try {
      return await this.#askWho(netId, endpointID);
    } catch (e) {
      if (!(e instanceof DockerUnreachable)) throw e;
      this.dockerSilent = true;
      return undefined;
    }
  }

  /** Whose an endpoint is, as Docker lists it (undefined while it does not); DockerUnreachable when Docker is silent. */
  async #askWho(netId: string, endpointID: string): Promise<Joiner | undefined> {
    const ep = await this.#engine.endpoint(netId, endpointID, JOIN_ASK_MS);
    if (!ep) return undefined;
    return { name: ep.Name, containerID: (await this.#engine.containerIdByName(ep.Name, JOIN_ASK_MS)) ?? endpointID };
  }

  async join(b: Body): Promise<object> {
    const netId = str(b, 'NetworkID');
    const endpointID = str(b, 'EndpointID');
    const known = this.#joining.get(endpointID) ?? (await this.#askEndpoint(netId, endpointID));
    const meta = this.#view.byName(known.network);
    if (!meta) throw new WeftError('WEFT_NOT_FOUND', `weft network ${known.network} is gone`);
    const cfg = await this.#view.ready(meta);
    const who = await this.#whoJoins(netId, endpointID);
    const answer = await joinEndpoint(
      {
        cfg,
        endpointID,
        who,
        address: known.address,
        address6: known.address6,
        mac: this.#joining.get(endpointID)?.mac,
        sandboxKey: str(b, 'SandboxKey'),
        register: async (w, mac) => {
          await this.#view.nets.register(meta.Name, endpointInput(w, endpointID, known, mac));
        },
        unregister: (w) => this.#view.nets.unregister(meta.Name, w.name, w.containerID),
      },
      this.#nl,
    );
    if (!who) void this.#nameLater(meta, cfg, netId, endpointID, known);
    return answer;
  }

  /** An endpoint created before this daemon started (it restarted in between): Docker knows its address. */
  async #askEndpoint(netId: string, endpointID: string): Promise<{ network: string } & Addresses> {
    const meta = await this.#network(netId);
    const ep = await this.#engine.endpoint(netId, endpointID);
    if (!ep?.IPv4Address)
      throw new WeftError('WEFT_DOCKER', `Docker does not show endpoint ${endpointID.slice(0, 12)} on network ${meta.Name}`);
    return { network: meta.Name, address: ep.IPv4Address, address6: ep.IPv6Address || undefined };
  }

  /** Names an endpoint that joined unnamed, as soon as Docker says whose it is (given up after NAME_LATER_MS). */
  async #nameLater(meta: NetworkMeta, cfg: AttachConfig, netId: string, endpointID: string, addresses: Addresses): Promise<void> {
    const until = Date.now() + NAME_LATER_MS;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      const w = await this.#askWho(netId, endpointID).catch(() => undefined);
      if (!w) continue;
      try {
        const named = await nameEndpoint(cfg, endpointID, w, async (mac) => {
          await this.#view.nets.register(meta.Name, endpointInput(w, endpointID, addresses, mac));
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
  #recordOf(endpointID: string): Found | undefined {
    for (const meta of this.#view.nets.metas()) {
      const state = networkState(this.#view.configOf(meta));
      const entry = state.records.list().find((e) => e.ifname === endpointID && dockerRecordOf(e));
      if (entry?.record) return { meta, state, entry, record: entry.record };
    }
    return undefined;
  }

  /**
   * An endpoint's record changed as it is now: one read before a wait (portmap runs as a child process) may
   * have moved meanwhile (named, left). undefined when it is gone.
   */
  #change(endpointID: string, f: (r: AttachmentRecord) => AttachmentRecord): Found | undefined {
    const now = this.#recordOf(endpointID);
    if (!now) return undefined;
    const record = f(now.record);
    now.state.records.save(record);
    return { ...now, record };
  }

  /** `-p`: the endpoint's published ports, through the portmap plugin (ports.ts), kept in its record. */
  async publish(endpointID: string, options: Body | undefined): Promise<object> {
    const mappings = portMappings(options);
    if (mappings.length === 0) return {};
    const found = this.#recordOf(endpointID);
    if (!found) throw new WeftError('WEFT_NOT_FOUND', `endpoint ${endpointID.slice(0, 12)} has not joined a weft network here`);
    const { meta, record } = found;
    await runPortmap('ADD', { network: meta.Name, endpointID, sandboxKey: record.netns, address: record.ips[0]!, mappings });
    this.#change(endpointID, (r) => ({ ...r, ports: mappings }));
    this.#log.info('published ports', {
      network: meta.Name,
      ports: mappings.map((m) => `${m.hostPort}->${m.containerPort}/${m.protocol}`).join(','),
    });
    return {};
  }

  async unpublish(endpointID: string): Promise<object> {
    const found = this.#recordOf(endpointID);
    if (found) await this.#unpublish(found);
    return {};
  }

  /** Removes the endpoint's published ports, if it has any; its record as it is then (undefined: gone meanwhile). */
  async #unpublish(found: Found): Promise<Found | undefined> {
    const { meta, entry, record } = found;
    if (!record.ports) return found;
    const mappings = record.ports;
    await runPortmap('DEL', { network: meta.Name, endpointID: entry.ifname, sandboxKey: record.netns, address: record.ips[0]!, mappings });
    return this.#change(entry.ifname, ({ ports: _, ...rest }) => rest);
  }

  /** Leave and DeleteEndpoint find the endpoint's record by its ID in every network's state, without Docker. */
  async leave(endpointID: string): Promise<object> {
    this.#joining.delete(endpointID);
    const found = this.#recordOf(endpointID);
    const now = found && (await this.#unpublish(found));
    if (!now) return {};
    const net = now.meta.Name;
    await leaveEndpoint(now.state, { ...now.entry, record: now.record }, this.#nl, (n, cid) =>
      this.#view.nets.unregister(net, n, cid).catch((e: unknown) => {
        this.#log.warn(`cannot remove the name ${n} of ${net} now (${messageOf(e)}); the daemon retries`);
      }),
    );
    return {};
  }
}
