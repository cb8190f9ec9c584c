/**
 * The network's VXLAN device (VTEP): `flannel.<VNI>` with learning off, `local` = the underlay address, `dev` =
 * the underlay interface, the configured port (the kernel's 8472 by default), MTU = underlay MTU - 50, a MAC
 * kept across restarts, and `<subnet>.0/32` as its only address inside the cluster network (a /32, so no
 * broadcast route is made; host-to-pod traffic uses it as source).
 *
 * An existing device is reused when compatible. Otherwise it is recreated, and the log says which attribute
 * differed (as flannel's vxlanLinksIncompat does); MTU and MAC are corrected in place.
 */
import { isKernelError, type KernelOps, type Link } from '../kernel/mod.ts';
import { containsPrefix, parsePrefix } from '../netaddr/cidr.ts';
import { bitsOf, familyOf } from '../netaddr/family.ts';

export interface VtepSpec {
  readonly name: string;
  readonly vni: number;
  /** 0: the kernel default (8472). */
  readonly port: number;
  readonly local: string;
  readonly dev: number;
  readonly learning: boolean;
  readonly gbp: boolean;
  readonly mtu: number;
  readonly mac: string;
  /** `<subnet>.0/32`; for an IPv6 VTEP `<subnet>::/128` (and `local` an IPv6 address). */
  readonly address: string;
  readonly clusterNetwork: string;
}

const KERNEL_DEFAULT_PORT = 8472;

/** Why an existing link cannot serve as the wanted VTEP, or undefined when it can. Pure. */
export function vtepIncompatibility(have: Link, want: VtepSpec): string | undefined {
  if (have.kind !== 'vxlan' || !have.vxlan) return `it is a ${have.kind ?? 'non-vxlan'} device`;
  const v = have.vxlan;
  if (v.vni !== want.vni) return `vni: ${v.vni} vs ${want.vni}`;
  if (v.dev !== undefined && v.dev !== want.dev) return `underlay device: ${v.dev} vs ${want.dev}`;
  if (v.local !== undefined && v.local !== want.local) return `local address: ${v.local} vs ${want.local}`;
  if ((v.port ?? KERNEL_DEFAULT_PORT) !== (want.port || KERNEL_DEFAULT_PORT))
    return `port: ${v.port} vs ${want.port || KERNEL_DEFAULT_PORT}`;
  if (v.gbp !== want.gbp) return `gbp: ${v.gbp} vs ${want.gbp}`;
  if (v.learning !== want.learning) return `learning: ${v.learning} vs ${want.learning}`;
  return undefined;
}

/**
 * How the VTEP found in the kernel differs from the wanted one, as a list of what is wrong (empty: nothing),
 * for the reconcile pass to repair and to name in its log line. Pure.
 */
export function vtepDrift(have: Link | undefined, addrs: ReadonlyArray<{ readonly cidr: string }>, want: VtepSpec): string[] {
  if (!have) return ['missing'];
  const why = vtepIncompatibility(have, want);
  if (why) return [`incompatible (${why})`];
  const out: string[] = [];
  if (have.mtu !== want.mtu) out.push(`mtu ${have.mtu} (want ${want.mtu})`);
  if (have.mac !== want.mac) out.push(`mac ${have.mac} (want ${want.mac})`);
  if (!have.up) out.push('down');
  if (!addrs.some((a) => a.cidr === want.address)) out.push(`address ${want.address} missing`);
  const cluster = parsePrefix(want.clusterNetwork);
  for (const a of addrs) {
    const p = parsePrefix(a.cidr);
    if (a.cidr !== want.address && cluster.ok && p.ok && containsPrefix(cluster.value, { ...p.value, prefix: bitsOf(p.value.family) }))
      out.push(`stray address ${a.cidr}`);
  }
  return out;
}

export async function ensureVtep(nl: KernelOps, want: VtepSpec, log: (msg: string) => void): Promise<Link> {
  let link = await nl.findLink(want.name);
  if (link) {
    const why = vtepIncompatibility(link, want);
    if (why) {
      log(`recreating ${want.name}: the existing device is incompatible (${why})`);
      await nl.deleteLink(link.index);
      link = undefined;
    }
  }
  if (!link) {
    link = await nl.addVxlan({
      name: want.name,
      vni: want.vni,
      local: want.local,
      dev: want.dev,
      learning: want.learning,
      gbp: want.gbp,
      ttl: 0,
      mtu: want.mtu,
      mac: want.mac,
      ...(want.port > 0 && { port: want.port }),
    });
  }
  if (link.mtu !== want.mtu) await nl.setLink({ index: link.index, mtu: want.mtu });
  if (link.mac !== want.mac) {
    await nl.setDown(link.index);
    await nl.setLink({ index: link.index, mac: want.mac });
  }
  const cluster = parsePrefix(want.clusterNetwork);
  const family = familyOf(want.address);
  for (const a of await nl.listAddrs({ index: link.index, family })) {
    const p = parsePrefix(a.cidr);
    if (a.cidr !== want.address && cluster.ok && p.ok && containsPrefix(cluster.value, { ...p.value, prefix: bitsOf(family) })) {
      await nl.deleteAddr({ index: link.index, cidr: a.cidr });
    }
  }
  try {
    // No duplicate address detection: the address is this host's by its lease, and a tentative one cannot be a source.
    await nl.addAddr({ index: link.index, cidr: want.address, ...(family === 6 && { noDad: true }) });
  } catch (e) {
    if (!isKernelError(e, 'EEXIST')) throw e;
  }
  try {
    nl.writeSysctl(`net/ipv6/conf/${want.name}/accept_ra`, '0');
  } catch {
    // IPv6 may be disabled on this host: nothing to turn off then.
  }
  await nl.setUp(link.index);
  return nl.getLink(link.index);
}
