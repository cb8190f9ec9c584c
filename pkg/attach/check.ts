/**
 * CHECK: does the kernel still hold what ADD made? It changes nothing. Expected state comes from the record
 * (what this plugin did) and from prevResult (what the chain reports: a later plugin such as tuning may have
 * changed the MAC, and CHECK must accept that). Every difference found is reported, not just the first.
 */
import { WeftError } from '../errors/mod.ts';
import { Netlink, openNetns } from '../kernel/mod.ts';
import { ownerOf } from '../ipam/mod.ts';
import { readPrevResult } from '../cni/result.ts';
import type { CniResult } from '../cni/types.ts';
import type { AttachContext } from './context.ts';
import { loadLease } from './lease.ts';
import { networkKey } from '../networks/names.ts';
import { masqSpecOf, masqueradePresent } from './masq.ts';
import { networkState } from '../contract/mod.ts';

export async function checkAttachment(ctx: AttachContext): Promise<void> {
  const { cfg, env } = ctx;
  if (cfg.prevResult === undefined) throw new WeftError('WEFT_INVALID_CONFIG', 'Required prevResult missing');
  const prev = readPrevResult(cfg.prevResult);
  const state = networkState(cfg);
  const entry = state.records.read(env.containerID, env.ifname);
  const record = entry?.record;
  if (!record || record.state !== 'added' || !record.result) {
    throw new WeftError('WEFT_NOT_FOUND', `weft has no attachment ${env.ifname} of container ${env.containerID} on network ${cfg.cniNetwork}`);
  }
  const drift: string[] = [];
  const mine = record.result;
  const prevIface = prev.interfaces?.find((i) => i.name === env.ifname && i.sandbox !== undefined);
  if (prevIface && prevIface.sandbox !== env.netns) drift.push(`prevResult puts ${env.ifname} in ${prevIface.sandbox}, not in CNI_NETNS ${env.netns}`);

  const owner = ownerOf(env.containerID, env.ifname);
  for (const cidr of record.ips) {
    const ip = cidr.split('/')[0]!;
    if (state.addresses.holder(ip) !== owner) drift.push(`address ${ip} is no longer reserved for this attachment`);
  }

  const ns = openNetns(env.netns);
  const host = Netlink.open();
  const cont = Netlink.open({ netns: ns });
  try {
    const c = await cont.findLink(env.ifname);
    if (!c) drift.push(`interface ${env.ifname} is missing from ${env.netns}`);
    else {
      if (c.kind !== 'veth') drift.push(`${env.ifname} is a ${c.kind ?? 'non-veth'} device, not a veth`);
      if (!c.up) drift.push(`${env.ifname} is down`);
      const wantMac = prevIface?.mac ?? containerMac(mine, env.ifname);
      if (wantMac && c.mac !== wantMac) drift.push(`${env.ifname} has MAC ${c.mac}, expected ${wantMac}`);
      const addrs = (await cont.listAddrs({ index: c.index })).map((a) => a.cidr);
      for (const cidr of record.ips) if (!addrs.includes(cidr)) drift.push(`${env.ifname} lacks address ${cidr}`);
      const routes = await cont.listRoutes();
      for (const r of mine.routes ?? []) {
        if (!routes.some((x) => x.dst === r.dst && x.gateway === r.gw)) drift.push(`route ${r.dst} via ${r.gw} is missing in the container`);
      }
    }
    const bridge = await host.findLink(record.bridge);
    if (!bridge || bridge.kind !== 'bridge') drift.push(`bridge ${record.bridge} is missing`);
    const veth = await host.findLink(record.hostVeth);
    if (!veth) drift.push(`host interface ${record.hostVeth} is missing`);
    else {
      if (bridge && veth.master !== bridge.index) drift.push(`host interface ${record.hostVeth} is not attached to ${record.bridge}`);
      if (c && veth.parentIndex !== c.index) drift.push(`host interface ${record.hostVeth} is not the peer of ${env.ifname}`);
      if (!veth.up) drift.push(`host interface ${record.hostVeth} is down`);
    }
  } finally {
    host.close();
    cont.close();
    ns.close();
  }
  const lease = tryLease(cfg.subnetFile);
  if (lease && (cfg.ipMasq ?? !lease.ipMasq) && !masqueradePresent(masqSpecOf(cfg.network, lease))) {
    drift.push(`the masquerade rule of network ${networkKey(cfg.network)} is missing (nft table inet weft-cni)`);
  }
  if (drift.length > 0) throw new WeftError('WEFT_NOT_FOUND', `CHECK: ${drift.join('; ')}`);
}

function containerMac(r: CniResult, ifname: string): string | undefined {
  return r.interfaces?.find((i) => i.name === ifname && i.sandbox)?.mac;
}

function tryLease(file: string) {
  try {
    return loadLease(file);
  } catch {
    return undefined;
  }
}
