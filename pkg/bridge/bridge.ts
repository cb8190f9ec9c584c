/**
 * The network's bridge on this host: made on first use with a fixed MAC (a bridge without one takes the
 * lowest port MAC and changes it as ports come and go, which makes every container's gateway ARP entry go
 * stale), the gateway addresses, the MTU, and up. An address left from an earlier lease is replaced while no
 * container is attached; with containers attached it is an error that says so (flannel's "cni0 already has
 * an IP address different from ..." without the guesswork).
 */
import { WeftError } from '../errors/mod.ts';
import { isKernelError, type KernelOps, type Link } from '../kernel/mod.ts';
import { stableMac } from '../netaddr/mac.ts';
import { familyOf } from '../netaddr/family.ts';

export interface BridgeSpec {
  readonly name: string;
  readonly mtu: number;
  readonly mac: string;
  /** Gateway addresses with prefix, e.g. 10.244.1.1/24: the first address of each of the host's subnets. */
  readonly gateways: readonly string[];
}

/** The bridge's fixed MAC: a function of its name and the host's subnets, so the plugin and the daemon agree. */
export function bridgeMac(name: string, subnets: readonly string[]): string {
  return stableMac(`weft-bridge/${name}/${subnets.join(',')}`);
}

export async function ensureBridge(host: KernelOps, spec: BridgeSpec): Promise<Link> {
  let br = await host.findLink(spec.name);
  if (!br) {
    try {
      br = await host.addBridge({ name: spec.name, mtu: spec.mtu, mac: spec.mac });
    } catch (e) {
      if (!isKernelError(e, 'EEXIST')) throw e;
      br = await host.getLink(spec.name); // a concurrent ADD made it first
    }
  }
  if (br.kind !== 'bridge') {
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      `${spec.name} already exists on this host but is not a bridge (it is ${br.kind ?? 'a physical device'}); ` +
        'set "bridge" to another name',
    );
  }
  if (br.mtu !== spec.mtu) await host.setLink({ index: br.index, mtu: spec.mtu });
  const have = await host.listAddrs({ index: br.index });
  for (const gw of spec.gateways) {
    const family = familyOf(gw);
    if (have.some((a) => a.cidr === gw)) continue;
    const stale = have.filter((a) => a.family === family && a.scope === 0 && !spec.gateways.includes(a.cidr));
    if (stale.length > 0) {
      const ports = (await host.listLinks()).filter((l) => l.master === br!.index);
      if (ports.length > 0) {
        throw new WeftError(
          'WEFT_INVALID_CONFIG',
          `bridge ${spec.name} has address ${stale.map((a) => a.cidr).join(', ')} but this host's lease needs ${gw}; ` +
            `${ports.length} interface(s) from the old subnet are still attached: remove those containers first`,
        );
      }
      for (const a of stale) await host.deleteAddr({ index: br.index, cidr: a.cidr });
    }
    try {
      await host.addAddr({ index: br.index, cidr: gw, ...(family === 6 && { noDad: true }) });
    } catch (e) {
      if (!isKernelError(e, 'EEXIST')) throw e;
    }
  }
  if (!br.up) {
    if (spec.gateways.some((g) => familyOf(g) === 6)) noLinkLocalDad(host, spec.name);
    await host.setUp(br.index);
  }
  return host.getLink(br.index);
}

/**
 * Neighbour solicitations leave an interface only from a link-local address that passed duplicate detection
 * (the kernel's ndisc_send_ns), so for the second or so that detection takes a new bridge could not resolve
 * its containers' IPv6 addresses, nor a new container its gateway's: first packets were lost. Set before
 * the interface goes up; its link-local address is derived from a MAC no one else on the link has.
 */
export function noLinkLocalDad(k: Pick<KernelOps, 'writeSysctl'>, ifname: string): void {
  try {
    k.writeSysctl(`net/ipv6/conf/${ifname}/accept_dad`, '0');
  } catch {
    // IPv6 disabled on this host: no detection to skip.
  }
}

/**
 * How the bridge found in the kernel differs from `spec`, and which of `ports` (the host ends of this host's
 * attachments) are not on it: what a reconcile pass repairs and names. Pure.
 */
export function bridgeDrift(
  have: Link | undefined,
  addrs: ReadonlyArray<{ readonly cidr: string }>,
  spec: BridgeSpec,
  ports: readonly Link[],
): string[] {
  if (!have) return ['missing'];
  if (have.kind !== 'bridge') return [`not a bridge (${have.kind ?? 'a physical device'})`];
  const out: string[] = [];
  // With no port the kernel puts a bridge's MTU back to 1500 by itself, and nothing is sent over it.
  if (have.mtu !== spec.mtu && ports.length > 0) out.push(`mtu ${have.mtu} (want ${spec.mtu})`);
  if (!have.up) out.push('down');
  for (const gw of spec.gateways) if (!addrs.some((a) => a.cidr === gw)) out.push(`address ${gw} missing`);
  for (const p of ports) if (p.master !== have.index) out.push(`${p.name} detached`);
  return out;
}

/** Puts each of `ports` on the bridge and up (a bridge made again has none). */
export async function attachPorts(host: KernelOps, bridge: Link, ports: readonly Link[]): Promise<void> {
  for (const p of ports) {
    if (p.master !== bridge.index) await host.setMaster(p.index, bridge.index);
    if (!p.up) await host.setUp(p.index);
  }
}
