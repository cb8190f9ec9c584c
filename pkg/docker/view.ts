/**
 * The Docker side's view of weft's named networks on this host: which network a name, range or address
 * belongs to, overlap checks, and the CNI plugin's configuration of a network once this host has its lease
 * (Docker's endpoints share its state directory and bridge). Shared by the driver, its endpoints and IPAM.
 */
import { parseAttachConfig, type AttachConfig } from '../attach/mod.ts';
import { WeftError } from '../errors/mod.ts';
import { containsIP, overlaps, parseAddr, parseNetwork } from '../netaddr/cidr.ts';
import type { CreateRequest, Endpoint, NetworkMeta } from '../networks/mod.ts';

/** What the plugin needs of the daemon's named networks (pkg/daemon's NetworkManager). */
export interface WeftNetworks {
  metas(): readonly NetworkMeta[];
  served(id: string): { readonly gateway: string } | undefined;
  conflist(meta: NetworkMeta): Record<string, unknown>;
  create(req: CreateRequest): Promise<NetworkMeta>;
  remove(ref: string): Promise<NetworkMeta>;
  register(
    ref: string,
    input: {
      name: string;
      aliases: readonly string[];
      containerID: string;
      ifname: string;
      address: string;
      address6?: string | undefined;
      mac: string;
    },
  ): Promise<Endpoint>;
  unregister(ref: string, name: string, containerID: string | undefined): Promise<boolean>;
}

/** A network's ranges: its IPv4 one and, dual-stack, its IPv6 one. */
export const rangesOf = (m: NetworkMeta): string[] => (m.SubnetV6 ? [m.Subnet, m.SubnetV6] : [m.Subnet]);

/** How long a request waits for a network Docker just made to be adopted and leased on this host. */
export const READY_MS = 30_000;

export type Body = Readonly<Record<string, unknown>>;
/** A string field of a request body ("" when absent or not a string). */
export const str = (b: Body, k: string): string => (typeof b[k] === 'string' ? (b[k] as string) : '');

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new WeftError('WEFT_TRY_AGAIN', `${what}; try again later`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class NetworkView {
  readonly nets: WeftNetworks;

  constructor(nets: WeftNetworks) {
    this.nets = nets;
  }

  byName = (name: string): NetworkMeta | undefined => this.nets.metas().find((m) => m.Name === name);
  /** The network with exactly this range (of either family). */
  bySubnet = (subnet: string): NetworkMeta | undefined => this.nets.metas().find((m) => rangesOf(m).includes(subnet));

  /** The network whose range holds `ip` (weft's ranges never overlap). */
  byAddress(ip: string): NetworkMeta | undefined {
    const a = parseAddr(ip);
    return this.nets.metas().find((m) =>
      rangesOf(m).some((r) => {
        const n = parseNetwork(r);
        return a !== undefined && n.ok && containsIP(n.value, a.family, a.ip);
      }),
    );
  }

  /** Refuses a range that overlaps a weft network's other than exactly that range. */
  checkOverlap(subnet: string): void {
    const p = parseNetwork(subnet);
    if (!p.ok) return;
    for (const m of this.nets.metas())
      for (const r of rangesOf(m)) {
        const q = parseNetwork(r);
        if (q.ok && r !== subnet && overlaps(p.value, q.value))
          throw new WeftError('WEFT_INVALID_CONFIG', `subnet ${subnet} overlaps with weft network ${m.Name} (${r})`);
      }
  }

  /** Waits until this host has its lease of the network (the daemon writes the lease file then). */
  async ready(meta: NetworkMeta): Promise<AttachConfig> {
    await waitFor(`network ${meta.Name} has no lease on this host yet`, () => this.nets.served(meta.Id), READY_MS);
    return this.configOf(meta);
  }

  /** The CNI plugin's configuration of the network on this host. */
  configOf(meta: NetworkMeta): AttachConfig {
    return parseAttachConfig((this.nets.conflist(meta).plugins as Array<Record<string, unknown>>)[0]!, new Map());
  }
}
