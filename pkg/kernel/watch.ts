/**
 * The kernel's own change notifications (rtnetlink multicast groups: links, addresses and routes of both families,
 * neighbours and FDB entries) in one namespace, decoded to what a reconcile loop needs to decide whether a
 * change touches it: the object kind, new or deleted, the interface index, a route's destination. A socket of
 * its own, so notifications never queue behind requests; when the kernel dropped some (ENOBUFS, the socket
 * could not keep up), `overflow` tells the listener to look at everything.
 *
 *   ip monitor link address route neigh     is the command this equals (both families).
 */
import { RTM, RTNLGRP } from '../rtnl/constants.ts';
import { decodeAddr } from '../rtnl/addr.ts';
import { decodeLink } from '../rtnl/link.ts';
import type { RawMessage } from '../rtnl/message.ts';
import { decodeNeigh } from '../rtnl/neigh.ts';
import { decodeRoute } from '../rtnl/route.ts';
import { withNetns, type Netns } from './netns.ts';
import { RtSocket } from './socket.ts';

export type KernelEvent =
  | { readonly kind: 'link'; readonly op: 'new' | 'del'; readonly index: number; readonly name: string }
  | { readonly kind: 'addr'; readonly op: 'new' | 'del'; readonly index: number }
  | {
      readonly kind: 'route';
      readonly op: 'new' | 'del';
      readonly dst: string;
      readonly oif: number | undefined;
      /** What the route is, so a listener can tell the echo of its own write from a change (absent: unknown). */
      readonly gateway?: string | undefined;
      readonly onlink?: boolean;
    }
  | {
      readonly kind: 'neigh';
      readonly op: 'new' | 'del';
      readonly index: number;
      /** The entry itself (absent: unknown), as for routes. */
      readonly ip?: string;
      readonly mac?: string | undefined;
      readonly permanent?: boolean;
    }
  | {
      readonly kind: 'fdb';
      readonly op: 'new' | 'del';
      readonly index: number;
      readonly mac?: string;
      readonly dst?: string | undefined;
      readonly self?: boolean;
    }
  | { readonly kind: 'overflow' };

/** Decodes one notification; undefined for kinds nobody watches or messages that do not decode. Pure. */
export function decodeEvent(m: RawMessage): KernelEvent | undefined {
  try {
    switch (m.type) {
      case RTM.NEWLINK:
      case RTM.DELLINK: {
        const l = decodeLink(m.payload);
        return { kind: 'link', op: m.type === RTM.NEWLINK ? 'new' : 'del', index: l.index, name: l.name };
      }
      case RTM.NEWADDR:
      case RTM.DELADDR: {
        const a = decodeAddr(m.payload);
        return a && { kind: 'addr', op: m.type === RTM.NEWADDR ? 'new' : 'del', index: a.index };
      }
      case RTM.NEWROUTE:
      case RTM.DELROUTE: {
        const r = decodeRoute(m.payload);
        return (
          r && { kind: 'route', op: m.type === RTM.NEWROUTE ? 'new' : 'del', dst: r.dst, oif: r.oif, gateway: r.gateway, onlink: r.onlink }
        );
      }
      case RTM.NEWNEIGH:
      case RTM.DELNEIGH: {
        const n = decodeNeigh(m.payload);
        const op = m.type === RTM.NEWNEIGH ? 'new' : 'del';
        if (!n) return undefined;
        if (n.kind === 'fdb') return { kind: 'fdb', op, index: n.fdb.index, mac: n.fdb.mac, dst: n.fdb.dst, self: n.fdb.self };
        return { kind: 'neigh', op, index: n.neigh.index, ip: n.neigh.ip, mac: n.neigh.mac, permanent: n.neigh.permanent };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined; // a truncated or odd message: the periodic reconcile covers whatever it described
  }
}

export class KernelWatcher {
  readonly #sock: RtSocket;

  /** Starts listening in `netns` (or the caller's namespace); `onEvent` is called for every decoded change. */
  constructor(onEvent: (e: KernelEvent) => void, opts: { netns?: Netns } = {}) {
    this.#sock = opts.netns ? withNetns(opts.netns, () => RtSocket.open()) : RtSocket.open();
    this.#sock.onNotification = (m) => {
      const e = decodeEvent(m);
      if (e) onEvent(e);
    };
    this.#sock.onError = () => onEvent({ kind: 'overflow' });
    // Both families' routes and addresses: since issue 28 a resync no longer dumps the kernel, so an IPv6 route
    // deleted by hand is repaired only if its notification arrives.
    for (const g of [RTNLGRP.LINK, RTNLGRP.NEIGH, RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_IFADDR, RTNLGRP.IPV6_ROUTE])
      this.#sock.subscribe(g);
  }

  close(): void {
    this.#sock.close();
  }
}
