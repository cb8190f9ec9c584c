/**
 * The few Docker Engine API calls the plugin makes to the local dockerd (`--docker-host`): the plugin API
 * carries neither a network's nor a container's name, and the mirror keeps weft networks in Docker's list.
 * Unversioned paths (dockerd serves its own newest version); one request per connection, as unixRequest does.
 */
import { unixRequest } from '../contract/unix-http.ts';
import { messageOf, WeftError } from '../errors/mod.ts';

const TIMEOUT_MS = 10_000;

/** Docker did not answer (not started, restoring its containers, or gone): a condition to wait out. */
export class DockerUnreachable extends WeftError {
  constructor(message: string) {
    super('WEFT_DOCKER', message);
  }
}

/** A Docker network as `GET /networks` lists it (the fields the plugin reads). */
export interface DockerNetwork {
  readonly Id: string;
  readonly Name: string;
  readonly Driver: string;
  readonly IPAM?: { readonly Driver?: string; readonly Config?: ReadonlyArray<{ readonly Subnet?: string }> | null };
  readonly Options?: Readonly<Record<string, string>> | null;
  /** Endpoints on this host, keyed by container ID (or `ep-<endpoint ID>` while one joins). */
  readonly Containers?: Readonly<
    Record<string, { readonly Name: string; readonly EndpointID: string; readonly IPv4Address?: string; readonly IPv6Address?: string }>
  > | null;
}

/** What the mirror asks Docker to create: a network of driver and IPAM `weft` over the weft network's range. */
export interface NetworkCreate {
  readonly name: string;
  readonly subnet: string;
  /** A dual-stack weft network's IPv6 range (the Docker network is made with --ipv6). */
  readonly subnet6?: string | undefined;
  readonly options: Readonly<Record<string, string>>;
}

export class DockerEngine {
  readonly socket: string;

  /** `host`: unix://PATH. */
  constructor(host: string) {
    this.socket = host.replace(/^unix:\/\//, '');
  }

  async #call(method: string, path: string, body?: unknown, timeoutMs = TIMEOUT_MS): Promise<{ status: number; value: unknown }> {
    let res: Awaited<ReturnType<typeof unixRequest>>;
    try {
      res = await unixRequest(this.socket, method, path, body === undefined ? undefined : JSON.stringify(body), timeoutMs);
    } catch (e) {
      throw new DockerUnreachable(`cannot reach Docker at ${this.socket} (${method} ${path}): ${messageOf(e)}`);
    }
    let value: unknown;
    try {
      value = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      value = res.body;
    }
    return { status: res.status, value };
  }

  #fail(what: string, r: { status: number; value: unknown }): never {
    const msg = (r.value as { message?: string } | undefined)?.message ?? String(r.value ?? '');
    throw new WeftError(r.status === 404 ? 'WEFT_NOT_FOUND' : 'WEFT_DOCKER', `Docker refused to ${what}: ${msg} (HTTP ${r.status})`);
  }

  /** A network by ID or name; undefined when Docker has none. */
  async network(ref: string, timeoutMs?: number): Promise<DockerNetwork | undefined> {
    const r = await this.#call('GET', `/networks/${encodeURIComponent(ref)}`, undefined, timeoutMs);
    if (r.status === 404) return undefined;
    if (r.status !== 200) this.#fail(`show network ${ref}`, r);
    return r.value as DockerNetwork;
  }

  /** An endpoint as Docker lists it on a network (a joining one included): its container's name and address. */
  async endpoint(
    netId: string,
    endpointID: string,
    timeoutMs?: number,
  ): Promise<{ Name: string; IPv4Address?: string; IPv6Address?: string } | undefined> {
    const n = await this.network(netId, timeoutMs);
    return Object.values(n?.Containers ?? {}).find((c) => c.EndpointID === endpointID);
  }

  async networks(): Promise<DockerNetwork[]> {
    const r = await this.#call('GET', '/networks');
    if (r.status !== 200) this.#fail('list networks', r);
    return r.value as DockerNetwork[];
  }

  async createNetwork(n: NetworkCreate): Promise<string> {
    const r = await this.#call('POST', '/networks/create', {
      Name: n.name,
      Driver: 'weft',
      CheckDuplicate: true,
      IPAM: { Driver: 'weft', Config: [{ Subnet: n.subnet }, ...(n.subnet6 ? [{ Subnet: n.subnet6 }] : [])] },
      ...(n.subnet6 && { EnableIPv6: true }),
      Options: n.options,
    });
    if (r.status !== 201 && r.status !== 200) this.#fail(`create network ${n.name}`, r);
    return (r.value as { Id: string }).Id;
  }

  async removeNetwork(id: string): Promise<void> {
    const r = await this.#call('DELETE', `/networks/${encodeURIComponent(id)}`);
    if (r.status !== 204 && r.status !== 200 && r.status !== 404) this.#fail(`remove network ${id.slice(0, 12)}`, r);
  }

  /**
   * A container's ID by its exact name. The list, not `GET /containers/ID`: a container being started is
   * locked until its networks are joined, and the plugin asks in the middle of a Join.
   */
  async containerIdByName(name: string, timeoutMs?: number): Promise<string | undefined> {
    const filters = encodeURIComponent(JSON.stringify({ name: [`^/${name.replace(/[.]/g, '\\.')}$`] }));
    const r = await this.#call('GET', `/containers/json?all=1&filters=${filters}`, undefined, timeoutMs);
    if (r.status !== 200) this.#fail(`list containers named ${name}`, r);
    return (r.value as Array<{ Id: string }>)[0]?.Id;
  }
}
