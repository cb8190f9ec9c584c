/** What the kernel holds for one attachment, read from both sides of its veth (CHECK). No decisions. */
import type { Netlink } from '../kernel/mod.ts';
import type { AttachmentShape, ObservedAttachment } from './shape.ts';

export async function observeAttachment(
  host: Netlink,
  cont: Netlink,
  want: Pick<AttachmentShape, 'bridge' | 'hostVeth' | 'ifname'>,
): Promise<ObservedAttachment> {
  const c = await cont.findLink(want.ifname);
  const [addrs, routes] = c ? await Promise.all([cont.listAddrs({ index: c.index }), cont.listRoutes()]) : [[], []];
  const br = await host.findLink(want.bridge);
  const v = await host.findLink(want.hostVeth);
  return {
    container: c && {
      index: c.index,
      kind: c.kind,
      up: c.up,
      mac: c.mac,
      addresses: addrs.map((a) => a.cidr),
      routes: routes.filter((r) => r.gateway !== undefined).map((r) => ({ dst: r.dst, gateway: r.gateway! })),
    },
    bridge: br && { index: br.index, kind: br.kind },
    hostVeth: v && { master: v.master, peer: v.parentIndex, up: v.up },
  };
}
