/**
 * An attachment as CHECK compares it with the kernel: the parts of the plan ADD carried out (the bridge, the
 * host end of the veth on it, the container end with its MAC, addresses and routes), as the plan gives them
 * (`shapeOfPlan`) or as the attachment's record keeps them (`shapeOfRecord`: the record's result is the plan
 * rendered). `attachmentDrift` names every difference between a shape and what the kernel holds. Pure.
 */
import type { CniResult } from '../cni/types.ts';
import type { AttachmentRecord } from '../contract/mod.ts';
import type { AttachmentPlan, PlannedRoute } from '../attach/mod.ts';

/** The plan's container end (a MAC of undefined: any, the kernel chose it), with the names around it. */
export type AttachmentShape = Pick<AttachmentPlan['container'], 'ifname' | 'mac' | 'addresses' | 'routes'> & {
  readonly bridge: string;
  readonly hostVeth: string;
  readonly netns: string;
};

/** What the kernel holds for an attachment, as observe.ts reads it. */
export interface ObservedAttachment {
  readonly container:
    | {
        readonly index: number;
        readonly kind: string | undefined;
        readonly up: boolean;
        readonly mac: string | undefined;
        readonly addresses: readonly string[];
        readonly routes: readonly PlannedRoute[];
      }
    | undefined;
  readonly bridge: { readonly index: number; readonly kind: string | undefined } | undefined;
  readonly hostVeth: { readonly master: number | undefined; readonly peer: number | undefined; readonly up: boolean } | undefined;
}

export function shapeOfPlan(plan: AttachmentPlan, netns: string): AttachmentShape {
  const c = plan.container;
  return {
    bridge: plan.bridge.name,
    hostVeth: plan.hostVeth.name,
    ifname: c.ifname,
    netns,
    mac: c.mac,
    addresses: c.addresses,
    routes: c.routes,
  };
}

/** The shape an `added` record describes; a MAC a later plugin set (in prevResult) replaces the recorded one. */
export function shapeOfRecord(r: AttachmentRecord & { result: CniResult }, prevMac?: string): AttachmentShape {
  const mac = prevMac ?? r.result.interfaces?.find((i) => i.name === r.ifname && i.sandbox)?.mac;
  return {
    bridge: r.bridge,
    hostVeth: r.hostVeth,
    ifname: r.ifname,
    netns: r.netns,
    mac,
    addresses: r.ips,
    routes: (r.result.routes ?? []).map((x) => ({ dst: x.dst, gateway: x.gw ?? '' })),
  };
}

export function attachmentDrift(want: AttachmentShape, have: ObservedAttachment): string[] {
  const out: string[] = [];
  const c = have.container;
  if (!c) out.push(`interface ${want.ifname} is missing from ${want.netns}`);
  else {
    if (c.kind !== 'veth') out.push(`${want.ifname} is a ${c.kind ?? 'non-veth'} device, not a veth`);
    if (!c.up) out.push(`${want.ifname} is down`);
    if (want.mac && c.mac !== want.mac) out.push(`${want.ifname} has MAC ${c.mac}, expected ${want.mac}`);
    for (const a of want.addresses) if (!c.addresses.includes(a)) out.push(`${want.ifname} lacks address ${a}`);
    for (const r of want.routes)
      if (!c.routes.some((x) => x.dst === r.dst && x.gateway === r.gateway))
        out.push(`route ${r.dst} via ${r.gateway} is missing in the container`);
  }
  const br = have.bridge;
  if (br?.kind !== 'bridge') out.push(`bridge ${want.bridge} is missing`);
  const v = have.hostVeth;
  if (!v) out.push(`host interface ${want.hostVeth} is missing`);
  else {
    if (br && v.master !== br.index) out.push(`host interface ${want.hostVeth} is not attached to ${want.bridge}`);
    if (c && v.peer !== c.index) out.push(`host interface ${want.hostVeth} is not the peer of ${want.ifname}`);
    if (!v.up) out.push(`host interface ${want.hostVeth} is down`);
  }
  return out;
}
