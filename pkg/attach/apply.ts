/**
 * Carries out an attachment plan in the kernel, one request at a time, each undoable step registered with
 * the ADD's Undo; no decisions (those are plan.ts's). The bridge, shared by the network's containers, is made
 * if missing and never undone. Returns the MACs the kernel gave, for the CNI result.
 */
import { ensureBridge, noLinkLocalDad } from '../bridge/mod.ts';
import { isGone, writeSysctl, type Link, type Netlink, type Netns, type VethSpec } from '../kernel/mod.ts';
import type { AttachmentPlan } from './plan.ts';
import type { Undo } from './undo.ts';
import { familyOf } from '../netaddr/family.ts';

export interface AppliedMacs {
  readonly bridge: string | undefined;
  readonly hostVeth: string | undefined;
  readonly container: string | undefined;
}

/**
 * `beforeUp` is given the container end's MAC once the veth exists, before the container's end can send
 * anything (the port guard's elements go in there).
 */
export async function applyAttachment(
  plan: AttachmentPlan,
  k: { host: Netlink; cont: Netlink; ns: Netns },
  undo: Undo,
  beforeUp: (mac: string | undefined) => Promise<void> = async () => {},
): Promise<AppliedMacs> {
  const { host, cont, ns } = k;
  const c = plan.container;
  const { bridge, veth } = await plugVeth(plan, host, { name: c.ifname, netns: ns, mtu: c.mtu, ...(c.mac && { mac: c.mac }) }, undo);
  const inner = await cont.getLink(c.ifname);
  await beforeUp(inner.mac);
  for (const cidr of c.addresses) await cont.addAddr({ index: inner.index, cidr, ...(familyOf(cidr) === 6 && { noDad: true }) });
  writeSysctl(`net/ipv4/conf/${c.ifname}/arp_notify`, '1', { netns: ns });
  if (c.addresses.some((a) => familyOf(a) === 6)) noLinkLocalDad(cont, c.ifname);

  await cont.setUp(inner.index);
  for (const r of c.routes) await cont.addRoute({ dst: r.dst, gateway: r.gateway, oif: inner.index });
  return { bridge: bridge.mac, hostVeth: (await host.getLink(veth.index)).mac, container: inner.mac };
}

/**
 * The host's half of an attachment, shared by the CNI ADD and Docker's Join: the network's bridge (made if
 * missing), a veth whose host end is a port of it (hairpin as planned, up) and whose other end is `peer`, made
 * in the container's namespace (CNI) or left on the host for Docker to move in.
 */
export async function plugVeth(
  plan: AttachmentPlan,
  host: Netlink,
  peer: VethSpec['peer'],
  undo: Undo,
): Promise<{ bridge: Link; veth: Link }> {
  const bridge = await ensureBridge(host, plan.bridge);
  const veth = await host.addVeth({ name: plan.hostVeth.name, mtu: plan.hostVeth.mtu, peer });
  undo.push(`delete ${plan.hostVeth.name}`, () =>
    host.deleteLink(veth.index).catch((e: unknown) => {
      if (!isGone(e)) throw e;
    }),
  );
  await host.setLink({ index: veth.index, master: bridge.index });
  await host.setLink({ index: veth.index, hairpin: plan.hostVeth.hairpin, up: true });
  return { bridge, veth };
}
