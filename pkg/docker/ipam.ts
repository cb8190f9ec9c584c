/**
 * The IPAM driver `weft`: pools name their range (`weft:<range>`, so no table survives anything; with
 * `--ipv6` one pool per family), and an endpoint's address comes from this host's lease of the weft network
 * with that range (of the pool's family), through the CNI
 * plugin's own address files (owner `docker-ipam`), so Docker and CNI containers on one host never share one.
 */
import { readSubnetFile } from '../attach/mod.ts';
import { networkState } from '../contract/mod.ts';
import { WeftError } from '../errors/mod.ts';
import { allocate, DOCKER_IPAM_OWNER, prefixLen } from '../ipam/mod.ts';
import { firstAddress } from '../networks/mod.ts';
import { canonicalPool, GATEWAY_REQUEST, poolId, subnetOfPool } from './protocol.ts';
import { READY_MS, str, waitFor, type Body, type NetworkView } from './view.ts';
import { familyOf } from '../netaddr/family.ts';

export class DockerIpam {
  readonly #view: NetworkView;

  constructor(view: NetworkView) {
    this.#view = view;
  }

  requestPool(b: Body): object {
    if (!str(b, 'Pool'))
      throw new WeftError('WEFT_INVALID_CONFIG', 'a weft network needs its range up front: give --subnet (e.g. --subnet 10.10.10.0/24)');
    if (str(b, 'SubPool'))
      throw new WeftError('WEFT_UNSUPPORTED_FIELD', 'weft gives each host its own part of the subnet; drop --ip-range');
    const subnet = canonicalPool(str(b, 'Pool'), b.V6 === true ? 6 : 4);
    this.#view.checkOverlap(subnet);
    return { PoolID: poolId(subnet), Pool: subnet, Data: {} };
  }

  /**
   * The network's gateway (Docker asks for one at creation, before the network has a lease here) is the
   * range's first address, as `weft network inspect` shows; each host's own gateway reaches the container
   * in Join. Endpoint addresses come from this host's part of the range, with its prefix length.
   */
  async requestAddress(b: Body): Promise<object> {
    const subnet = subnetOfPool(str(b, 'PoolID'));
    const len = subnet.split('/')[1]!;
    const want = str(b, 'Address') || undefined;
    const opts = (b.Options ?? {}) as Body;
    if (str(opts, 'RequestAddressType') === GATEWAY_REQUEST) return { Address: `${want ?? firstAddress(subnet)}/${len}`, Data: {} };
    const meta = await waitFor(`no weft network has subnet ${subnet} on this host yet`, () => this.#view.bySubnet(subnet), READY_MS);
    const cfg = await this.#view.ready(meta);
    const family = familyOf(subnet);
    const pool = readSubnetFile(cfg.subnetFile).pools.find((p) => p.family === family);
    if (!pool) throw new WeftError('WEFT_TRY_AGAIN', `network ${meta.Name} has no IPv${family} lease on this host yet`);
    const ip = allocate(pool, networkState(cfg).addresses, DOCKER_IPAM_OWNER, want);
    return { Address: `${ip}/${prefixLen(pool)}`, Data: {} };
  }

  releaseAddress(b: Body): object {
    const subnet = subnetOfPool(str(b, 'PoolID'));
    const meta = this.#view.bySubnet(subnet);
    if (!meta) return {};
    const cfg = this.#view.configOf(meta);
    networkState(cfg).addresses.release(str(b, 'Address'), DOCKER_IPAM_OWNER);
    return {};
  }
}
