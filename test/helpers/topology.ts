/**
 * Simulated multi-host topologies on one machine: an underlay switch in its own namespace, hosts as
 * namespaces plugged into it with TEST-NET-1 addresses (192.0.2.0/24), and pods as namespaces behind a host.
 * Nothing touches the root namespace. Built with the product's kernel layer; tests check the result with
 * independent tools (ip, bridge, ping).
 */
import { Netlink, writeSysctl, type Link } from '../../pkg/kernel/mod.ts';
import { defer, makeNetns, type TestNetns } from './netns.ts';

export const UNDERLAY_PREFIX = '192.0.2';

export interface Underlay {
  readonly ns: TestNetns;
  readonly nl: Netlink;
  readonly bridge: Link;
  readonly tag: string;
}

export interface SimHost {
  readonly n: number;
  readonly ns: TestNetns;
  /** A kernel-layer handle in the host's namespace. */
  readonly nl: Netlink;
  /** The host's underlay address (192.0.2.<n>). */
  readonly ip: string;
  /** The host's uplink, `eth0`. */
  readonly uplink: Link;
}

function open(ns: TestNetns): Netlink {
  const nl = Netlink.open({ netns: ns.ns });
  defer(() => nl.close());
  return nl;
}

export async function makeUnderlay(tag = 'u'): Promise<Underlay> {
  const ns = makeNetns(`${tag}-underlay`);
  const nl = open(ns);
  const bridge = await nl.addBridge({ name: 'ul0' });
  await nl.setUp(bridge.index);
  return { ns, nl, bridge, tag };
}

/** Host n (1..254): namespace `<tag>-h<n>`, uplink eth0 = 192.0.2.<n>/24, forwarding on. */
export async function addHost(u: Underlay, n: number, opts: { mtu?: number } = {}): Promise<SimHost> {
  const ns = makeNetns(`${u.tag}-h${n}`);
  const mtu = opts.mtu ?? 1500;
  const port = await u.nl.addVeth({ name: `h${n}`, mtu, peer: { name: 'eth0', netns: ns.ns, mtu } });
  await u.nl.setMaster(port.index, u.bridge.index);
  await u.nl.setUp(port.index);
  const nl = open(ns);
  const uplink = await nl.getLink('eth0');
  await nl.addAddr({ index: uplink.index, cidr: `${UNDERLAY_PREFIX}.${n}/24` });
  await nl.setUp(uplink.index);
  writeSysctl('net/ipv4/ip_forward', '1', { netns: ns.ns });
  return { n, ns, nl, ip: `${UNDERLAY_PREFIX}.${n}`, uplink: await nl.getLink('eth0') };
}

/**
 * A pod namespace behind `host`: a veth from the host's bridge (created on first use, holding `gateway`)
 * into the pod as eth0 with `address`, default route via the gateway. This is the plain-kernel version of
 * what the CNI plugin does.
 */
export async function addPod(
  host: SimHost,
  opts: { name: string; bridge: string; gateway: string; address: string; mtu?: number },
): Promise<TestNetns> {
  const pod = makeNetns(`${host.ns.name.split('-').pop()}-${opts.name}`);
  const mtu = opts.mtu ?? 1450;
  let br = await host.nl.findLink(opts.bridge);
  if (!br) {
    br = await host.nl.addBridge({ name: opts.bridge, mtu });
    await host.nl.addAddr({ index: br.index, cidr: opts.gateway });
    await host.nl.setUp(br.index);
  }
  const hostEnd = await host.nl.addVeth({ name: `v${opts.name}`.slice(0, 15), mtu, peer: { name: 'eth0', netns: pod.ns, mtu } });
  await host.nl.setMaster(hostEnd.index, br.index);
  await host.nl.setUp(hostEnd.index);
  const nl = open(pod);
  const eth0 = await nl.getLink('eth0');
  await nl.addAddr({ index: eth0.index, cidr: opts.address });
  await nl.setUp(eth0.index);
  await nl.addRoute({ dst: '0.0.0.0/0', gateway: opts.gateway.split('/')[0]! });
  return pod;
}
