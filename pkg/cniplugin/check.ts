/**
 * CHECK: does the kernel still hold what ADD made? It changes nothing. Expected state is the plan ADD carried
 * out, as the record keeps it (shape.ts), with prevResult's word on the MAC (a later plugin such as tuning may
 * have changed it, and CHECK must accept that). Every difference found is reported, not just the first.
 */
import { WeftError } from '../errors/mod.ts';
import { Netlink, openNetns } from '../kernel/mod.ts';
import { ownerOf } from '../ipam/mod.ts';
import { readPrevResult } from '../cni/result.ts';
import type { AttachContext } from './context.ts';
import { readSubnetFile } from '../attach/mod.ts';
import { observeAttachment } from './observe.ts';
import { attachmentDrift, shapeOfRecord } from './shape.ts';
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
  if (record?.state !== 'added' || !record.result) {
    throw new WeftError(
      'WEFT_NOT_FOUND',
      `weft has no attachment ${env.ifname} of container ${env.containerID} on network ${cfg.cniNetwork}`,
    );
  }
  const drift: string[] = [];
  const mine = record.result;
  const prevIface = prev.interfaces?.find((i) => i.name === env.ifname && i.sandbox !== undefined);
  if (prevIface && prevIface.sandbox !== env.netns)
    drift.push(`prevResult puts ${env.ifname} in ${prevIface.sandbox}, not in CNI_NETNS ${env.netns}`);

  const owner = ownerOf(env.containerID, env.ifname);
  for (const cidr of record.ips) {
    const ip = cidr.split('/')[0]!;
    if (state.addresses.holder(ip) !== owner) drift.push(`address ${ip} is no longer reserved for this attachment`);
  }

  const want = shapeOfRecord({ ...record, result: mine }, prevIface?.mac);
  const ns = openNetns(env.netns);
  const host = Netlink.open();
  const cont = Netlink.open({ netns: ns });
  try {
    drift.push(...attachmentDrift(want, await observeAttachment(host, cont, want)));
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

function tryLease(file: string) {
  try {
    return readSubnetFile(file);
  } catch {
    return undefined;
  }
}
