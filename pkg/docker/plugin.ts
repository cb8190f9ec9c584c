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
 * it; a joining container's name is in Docker's view of the network while it joins (endpoints.ts). This
 * file dispatches Docker's calls and keeps the networks; ipam.ts hands out addresses.
 */
import { messageOf, WeftError } from '../errors/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { NetworkMeta } from '../networks/mod.ts';
import type { DockerEngine } from './engine.ts';
import { DockerEndpoints } from './endpoints.ts';
import { DockerIpam } from './ipam.ts';
import { networkOptions, networkRanges, type CreateNetworkRequest, type NetworkOptions } from './protocol.ts';
import { NetworkView, READY_MS, str, waitFor, type Body, type WeftNetworks } from './view.ts';

export type { WeftNetworks } from './view.ts';

/**
 * CreateNetwork's body, checked before anything reads it (issue 25): the network ID a string, the pools
 * lists of objects, the options an object. Its fields were read as cast, and a body without a NetworkID made
 * the adoption's own error handler throw (`undefined.slice`) in the background, where nothing caught it
 * and the daemon exited.
 */
function createNetworkRequest(b: Body): CreateNetworkRequest {
  const problems: string[] = [];
  if (typeof b.NetworkID !== 'string' || b.NetworkID === '') problems.push('NetworkID must be a non-empty string');
  for (const k of ['IPv4Data', 'IPv6Data'] as const) {
    const v = b[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d))))
      problems.push(`${k} must be a list of objects`);
  }
  if (b.Options !== undefined && b.Options !== null && (typeof b.Options !== 'object' || Array.isArray(b.Options)))
    problems.push('Options must be an object');
  if (problems.length > 0) throw new WeftError('WEFT_INVALID_ARGUMENT', `CreateNetwork: ${problems.join('; ')}`);
  return b as unknown as CreateNetworkRequest;
}

export class DockerPlugin {
  readonly #view: NetworkView;
  readonly #engine: DockerEngine;
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
  readonly #endpoints: DockerEndpoints;
  readonly #ipam: DockerIpam;

  constructor(deps: { networks: WeftNetworks; engine: DockerEngine; nl: Netlink; log: Logger }) {
    this.#view = new NetworkView(deps.networks);
    this.#engine = deps.engine;
    this.#log = deps.log;
    this.#endpoints = new DockerEndpoints({
      view: this.#view,
      engine: deps.engine,
      nl: deps.nl,
      log: deps.log,
      network: (id) => this.#network(id),
      learn: (id, name) => this.#names.set(id, name),
    });
    this.#ipam = new DockerIpam(this.#view);
  }

  /** Docker did not answer a Join's question; the mirror clears it when Docker answers again. */
  get dockerSilent(): boolean {
    return this.#endpoints.dockerSilent;
  }

  set dockerSilent(v: boolean) {
    this.#endpoints.dockerSilent = v;
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
        return this.#createNetwork(createNetworkRequest(b));
      case 'NetworkDriver.DeleteNetwork':
        return this.#deleteNetwork(str(b, 'NetworkID'));
      case 'NetworkDriver.CreateEndpoint':
        return this.#endpoints.create(b);
      case 'NetworkDriver.Join':
        return this.#endpoints.join(b);
      case 'NetworkDriver.Leave':
      case 'NetworkDriver.DeleteEndpoint':
        return this.#endpoints.leave(str(b, 'EndpointID'));
      case 'NetworkDriver.EndpointOperInfo':
        return { Value: {} };
      case 'NetworkDriver.ProgramExternalConnectivity':
        return this.#endpoints.publish(str(b, 'EndpointID'), b.Options as Body | undefined);
      case 'NetworkDriver.RevokeExternalConnectivity':
        return this.#endpoints.unpublish(str(b, 'EndpointID'));
      case 'NetworkDriver.DiscoverNew':
      case 'NetworkDriver.DiscoverDelete':
        return {};
      case 'IpamDriver.GetCapabilities':
        return { RequiresMACAddress: false };
      case 'IpamDriver.GetDefaultAddressSpaces':
        return { LocalDefaultAddressSpace: 'weft', GlobalDefaultAddressSpace: 'weft' };
      case 'IpamDriver.RequestPool':
        return this.#ipam.requestPool(b);
      case 'IpamDriver.ReleasePool':
        return {};
      case 'IpamDriver.RequestAddress':
        return this.#ipam.requestAddress(b);
      case 'IpamDriver.ReleaseAddress':
        return this.#ipam.releaseAddress(b);
      default:
        throw new WeftError('WEFT_NOT_FOUND', `weft does not implement ${method}`);
    }
  }

  // ---- networks

  #createNetwork(req: CreateNetworkRequest): object {
    const { subnet, subnet6 } = networkRanges(req);
    const opts = networkOptions(req.Options);
    const id = req.NetworkID;
    const expected = this.expected.get(subnet);
    if (expected !== undefined) {
      this.#names.set(id, expected);
      return {};
    }
    this.#view.checkOverlap(subnet);
    if (subnet6) this.#view.checkOverlap(subnet6);
    const adoption = this.#adopt(id, subnet, subnet6, opts)
      .catch((e: unknown) => {
        // Nothing awaits this chain: a throw here would end the daemon, so nothing here may throw.
        this.#broken.set(id, messageOf(e));
        this.#log.error(
          `Docker network ${String(id).slice(0, 12)} cannot be a weft network: ${messageOf(e)}; remove it with docker network rm`,
        );
      })
      .finally(() => this.#adopting.delete(id));
    this.#adopting.set(id, adoption);
    return {};
  }

  /** A network `docker network create` made here becomes the weft network of its name (made, or joined if it exists). */
  async #adopt(id: string, subnet: string, subnet6: string | undefined, opts: NetworkOptions): Promise<void> {
    const d = await waitFor(`Docker does not list network ${id.slice(0, 12)}`, () => this.#engine.network(id), READY_MS);
    const have = this.#view.byName(d.Name);
    if (have && have.Subnet !== subnet)
      throw new WeftError('WEFT_INVALID_CONFIG', `weft network ${d.Name} exists with subnet ${have.Subnet}, not ${subnet}`);
    if (have && subnet6 && have.SubnetV6 !== subnet6)
      throw new WeftError(
        'WEFT_INVALID_CONFIG',
        `weft network ${d.Name} exists with ${have.SubnetV6 ? `IPv6 subnet ${have.SubnetV6}` : 'no IPv6 subnet'}, not ${subnet6}`,
      );
    if (!have) {
      const made = await this.#view.nets.create({
        name: d.Name,
        subnet,
        ...(subnet6 && { ipv6: true, subnet6 }),
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
    return waitFor(`weft network ${n} is not known on this host yet`, () => this.#view.byName(n), READY_MS);
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
    if (this.removing.has(id) || this.#broken.delete(id) || name === undefined || !this.#view.byName(name)) return {};
    try {
      await this.#view.nets.remove(name);
      this.#log.info('removed weft network (docker network rm on this host)', { network: name });
    } catch (e) {
      this.#log.warn(`docker network rm ${name}: the weft network stays (${messageOf(e)}); it is put back in this host's Docker`);
    }
    return {};
  }
}
