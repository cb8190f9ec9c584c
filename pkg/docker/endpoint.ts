/**
 * A Docker endpoint on this host, made at Join and removed at Leave, with the CNI ADD's plan, host half and
 * write-ahead record lifecycle (the attachment core, pkg/attach): the same bridge, veth names, MTU, MAC and
 * gateway, and the same attachment record in the network's state directory, so the daemon keeps its name in
 * etcd, its bridge port and its teardown exactly as for a CNI container. The difference is where the
 * container end goes: Docker moves it into the sandbox itself and gives it the address its IPAM (weft's)
 * chose, so the veth is left on the host.
 */
import {
  bridgeOf,
  guardPort,
  macForIPv4,
  planAttachment,
  plugVeth,
  readSubnetFile,
  writeAhead,
  type AttachConfig,
  type AttachmentPlan,
  type SubnetFile,
} from '../attach/mod.ts';
import { currentBootId, networkState, teardown, type AttachmentRecord, type NetworkState, type RecordEntry } from '../contract/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import { hostVethName } from '../networks/mod.ts';
import type { StaticRoute } from './protocol.ts';
import { byFamily, type Family } from '../netaddr/family.ts';

/** Who joins: the container's ID and Docker name, when Docker could tell at the time. */
export interface Joiner {
  readonly containerID: string;
  readonly name: string;
}

export interface JoinInput {
  readonly cfg: AttachConfig;
  readonly endpointID: string;
  /** undefined: Docker did not answer (it is restoring its containers at start): named later, by nameEndpoint. */
  readonly who: Joiner | undefined;
  /** The addresses weft's IPAM gave the endpoint, with their prefix lengths (`address6` with `--ipv6`). */
  readonly address: string;
  readonly address6?: string | undefined;
  /** The MAC Docker gives the endpoint (`--mac-address`), when it gave one; weft's (from the IPv4 address) otherwise. */
  readonly mac?: string | undefined;
  readonly sandboxKey: string;
  /** Claims the name in etcd (refused when another container holds it); undone with `unregister`. */
  readonly register: (who: Joiner, mac: string) => Promise<void>;
  readonly unregister: (who: Joiner) => Promise<unknown>;
}

export interface JoinAnswer {
  readonly InterfaceName: { readonly SrcName: string; readonly DstPrefix: string };
  readonly Gateway: string;
  readonly GatewayIPv6?: string;
  readonly StaticRoutes: readonly StaticRoute[];
  readonly DisableGatewayService: true;
}

/** The record key of a Docker endpoint: its container, and the endpoint ID where CNI has the interface. */
export const dockerRecordOf = (e: RecordEntry): boolean => e.record?.cniNetwork.startsWith('docker:') === true;

/**
 * Join's answer: the interface to move in, the host's gateway on the network, and a route to the whole
 * network through it (Docker takes the default route from one network only; the others need their range).
 * Docker's own gateway service (docker_gwbridge) is not wanted: the host masquerades egress. Pure.
 */
export function joinAnswer(plan: AttachmentPlan, lease: SubnetFile, peer: string): JoinAnswer {
  const gatewayOf = (family: Family) => byFamily(plan.bridge.gateways)[family]?.split('/')[0];
  const gateway = gatewayOf(4)!;
  // IPv6 only when the endpoint has an IPv6 address (Docker's network made with --ipv6).
  const gateway6 = byFamily(plan.container.addresses)[6] ? gatewayOf(6) : undefined;

  const routes = (dsts: readonly string[], via: string): StaticRoute[] =>
    dsts.map((dst) => ({ Destination: dst, RouteType: 0, NextHop: via }));
  return {
    InterfaceName: { SrcName: peer, DstPrefix: 'eth' },
    Gateway: gateway,
    ...(gateway6 && { GatewayIPv6: gateway6 }),
    StaticRoutes: [...routes(lease.clusterNetworks[4], gateway), ...(gateway6 ? routes(lease.clusterNetworks[6], gateway6) : [])],
    DisableGatewayService: true,
  };
}

export async function joinEndpoint(j: JoinInput, host: Netlink): Promise<JoinAnswer> {
  const { cfg } = j;
  const lease = readSubnetFile(cfg.subnetFile);
  const state = networkState(cfg);
  // Until Docker names the container, its record is keyed by the endpoint (nameEndpoint moves it).
  const containerID = j.who?.containerID ?? j.endpointID;
  const hostVeth = hostVethName(cfg.network, containerID, j.endpointID);
  // Docker renames it when it moves it in; until then it must not clash with any other name on the host.
  const peer = hostVethName(cfg.network, containerID, `${j.endpointID}/peer`);
  const ip = j.address.split('/')[0]!;
  // The endpoint's families are those Docker gave it addresses of; the bridge keeps every gateway of the lease.
  const ips = [ip, ...(j.address6 ? [j.address6.split('/')[0]!] : [])];
  const planLease = j.address6 ? lease : { ...lease, pools: lease.pools.filter((p) => p.family === 4) };
  const planned = planAttachment({ cfg: { ...cfg, requestedMac: undefined }, lease: planLease, ips, hostVeth, ifname: peer });
  const plan = { ...planned, bridge: bridgeOf(cfg, lease) };
  const mac = j.mac ?? plan.container.mac ?? '';
  const record = {
    cniNetwork: `docker:${cfg.network}`,
    network: cfg.network,
    containerID,
    ifname: j.endpointID,
    netns: j.sandboxKey,
    hostVeth,
    bridge: cfg.bridge,
    bootId: currentBootId(),
    ips: plan.container.addresses,
    ...(mac && { mac }),
    ...(j.who && { endpoint: { name: j.who.name, aliases: [], mac } }),
  };
  const exists = `endpoint ${j.endpointID.slice(0, 12)} has already joined network ${cfg.network}`;
  return writeAhead({ state, record, exists }, async ({ undo }) => {
    const who = j.who;
    if (who) {
      await j.register(who, mac);
      undo.push(`unregister ${who.name}`, () => j.unregister(who));
    }
    await plugVeth(plan, host, { name: peer, mtu: plan.container.mtu, ...(mac && { mac }) }, undo);
    // Before Docker moves the end in and brings it up: its first packet is checked (pkg/attach/guard.ts).
    await guardPort(record);
    return { value: joinAnswer(plan, lease, peer) };
  });
}

/**
 * Names an endpoint that joined while Docker could not say whose it was: its record moves to the container's
 * key with the name, then the name is claimed (a name held elsewhere leaves the endpoint unnamed, and the
 * caller says so). False when the endpoint has left meanwhile.
 */
export async function nameEndpoint(
  cfg: AttachConfig,
  endpointID: string,
  who: Joiner,
  register: (mac: string) => Promise<void>,
): Promise<boolean> {
  const state = networkState(cfg);
  const entry = state.records.read(endpointID, endpointID);
  const r = entry?.record;
  if (r?.state !== 'added') return false;
  const mac = r.ips[0] ? (macOf(r.ips[0]) ?? '') : '';
  const named: AttachmentRecord = { ...r, containerID: who.containerID, endpoint: { name: who.name, aliases: [], mac } };
  state.records.save(named);
  state.records.remove(endpointID, endpointID);
  try {
    await register(mac);
  } catch (e) {
    const { endpoint: _, ...unnamed } = named;
    state.records.save(unnamed);
    throw e;
  }
  return true;
}

const macOf = (cidr: string) => macForIPv4(cidr.split('/')[0]!);

/**
 * Leave (and DeleteEndpoint, which follows it or comes alone after a failed Join): the name first (marked
 * `removing`, so the daemon's repair does not put it back), then the veth and the record. The address stays:
 * it is IPAM's, and Docker releases it with ReleaseAddress. Idempotent.
 */
export async function leaveEndpoint(
  state: NetworkState,
  entry: RecordEntry & { readonly record: AttachmentRecord },
  host: Netlink,
  unregister: (name: string, containerID: string) => Promise<unknown>,
): Promise<void> {
  const r = entry.record;
  if (r.state === 'added') state.records.save({ ...r, state: 'removing' });
  if (r.endpoint) await unregister(r.endpoint.name, r.containerID);
  await teardown(state, entry, host, r.network);
}
