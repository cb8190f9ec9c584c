/**
 * The fault suite's simulation and its yardsticks (issue 11). A cluster of simulated hosts with short resync
 * and lease periods, RED (and BLUE) on every host with one container each, attached by `weft network
 * connect`; an inventory of everything that must survive a fault (every host's leases and VTEP MACs, every
 * address allocation, every endpoint record); the time a fault takes to be repaired, printed, never asserted;
 * and the data path, checked with ping from inside the containers.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readIfExists } from '../../pkg/files/mod.ts';
import { canonicalNetwork } from '../../pkg/netaddr/cidr.ts';
import type { SimCluster, SimEtcdOptions, SimNs } from '../../pkg/sim/mod.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { ipJson, ping, tryRun } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

export const NETS = { RED: '10.10.10.0/24', BLUE: '10.10.20.0/24' } as const;
export type NetName = keyof typeof NETS;

export interface Pod {
  readonly name: string;
  readonly host: number;
  readonly net: NetName;
  readonly ns: SimNs;
  readonly ip: string;
}

export interface Chaos {
  readonly c: SimCluster;
  readonly pods: Pod[];
  readonly ids: Partial<Record<NetName, string>>;
}

export interface ChaosOptions {
  readonly hosts?: number;
  readonly nets?: readonly NetName[];
  readonly daemonArgs?: readonly string[];
  readonly etcd?: Omit<SimEtcdOptions, 'detach'>;
}

/** Hosts 1..N with daemons ready, the networks on every host, one container per host and network. */
export async function chaosCluster(tag: string, o: ChaosOptions = {}): Promise<Chaos> {
  const c = await testCluster(tag, { ...(o.etcd && { etcd: o.etcd }) });
  const hosts = o.hosts ?? 2;
  for (let n = 1; n <= hosts; n++) await c.addHost(n, o.daemonArgs ?? []);
  await c.startAll();
  const ids: Partial<Record<NetName, string>> = {};
  for (const net of o.nets ?? ['RED']) ids[net] = weftOk(c, 1, ['network', 'create', '--subnet', NETS[net], net]).trim();
  const pods: Pod[] = [];
  for (let n = 1; n <= hosts; n++) {
    for (const net of o.nets ?? ['RED']) {
      await eventually(`${net} served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, `weft-${net}.conflist`)));
      pods.push(await attach(c, n, net, `${net.toLowerCase()}${n}`));
    }
  }
  return { c, pods, ids };
}

/** A container (a namespace) on host n attached to `net` as `name`. */
export async function attach(c: SimCluster, n: number, net: NetName, name: string): Promise<Pod> {
  const ns = await c.sim.namespace(`h${n}-${name}`);
  const r = JSON.parse(weftOk(c, n, ['network', 'connect', net, '--netns', ns.path, '--name', name])) as {
    ips: Array<{ address: string }>;
  };
  return { name, host: n, net, ns, ip: r.ips[0]!.address.split('/')[0]! };
}

/** Host n's subnet of a named network (as a network), and its gateway: the subnet file's FLANNEL_SUBNET. */
export function subnetOf(x: Chaos, n: number, net: string): { subnet: string; gateway: string } {
  const first = /FLANNEL_SUBNET=(\S+)/.exec(readIfExists(join(x.c.daemon(n).dir, 'run', 'networks', `${net}.env`)) ?? '')?.[1];
  if (!first) throw new Error(`host ${n} has no subnet of ${net}`);
  return { subnet: canonicalNetwork(first)!, gateway: first.split('/')[0]! };
}

/** Whether host n has a link of that name. */
export function hasLink(x: Chaos, n: number, name: string): boolean {
  return tryRun('ip', ['-n', x.c.hosts[n - 1]!.name, 'link', 'show', name]).ok;
}

/** Every container reaches every other container of its network. */
export function dataPathWorks(x: Chaos, pods: readonly Pod[] = x.pods): void {
  for (const a of pods)
    for (const b of pods)
      if (a !== b && a.net === b.net)
        expect(ping(a.ns.name, b.ip, { count: 1, timeoutSec: 2 }), `${a.name} -> ${b.name} (${b.ip})`).toBe(true);
}

/** Waits until `check` holds and returns how long that took, printed as the fault's convergence time. */
export async function converged(
  fault: string,
  check: () => boolean | undefined | Promise<boolean | undefined>,
  ms = 30_000,
): Promise<number> {
  const t0 = performance.now();
  await eventually(fault, async () => (await check()) === true, ms);
  const took = Math.round(performance.now() - t0);
  console.log(`chaos: ${fault}: converged in ${took} ms`);
  return took;
}

export interface Inventory {
  /** Per host: the default network's subnet, each named network's subnet, and each VTEP's MAC. */
  readonly hosts: Record<string, { subnets: Record<string, string>; macs: Record<string, string> }>;
  /** Every lease key in etcd with the address it names. */
  readonly leases: Record<string, string>;
  /** Per host and network, the addresses the plugin holds (files in its state). */
  readonly addresses: Record<string, string[]>;
  /** Endpoint records in etcd: network/name -> host and address. */
  readonly endpoints: Record<string, string>;
}

export async function inventory(x: Chaos): Promise<Inventory> {
  const c = x.c;
  const hosts: Inventory['hosts'] = {};
  const addresses: Inventory['addresses'] = {};
  for (const d of c.daemons) {
    if (!d) continue;
    const h = `h${d.host.n}`;
    const subnets: Record<string, string> = { default: d.subnetEnv().subnet! };
    const macs: Record<string, string> = {};
    for (const l of ipJson<Array<{ ifname: string; address: string; linkinfo?: { info_kind?: string } }>>(
      d.host.name,
      ['link', 'show', 'type', 'vxlan'],
      true,
    ))
      macs[l.ifname] = l.address;
    for (const net of Object.keys(x.ids)) {
      subnets[net] = /FLANNEL_SUBNET=(\S+)/.exec(readIfExists(join(d.dir, 'run', 'networks', `${net}.env`)) ?? '')?.[1] ?? '';
      const ips = join(d.cniDataDir, net, 'ips');
      addresses[`${h}/${net}`] = existsSync(ips)
        ? readdirSync(ips)
            .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
            .sort()
        : [];
    }
    hosts[h] = { subnets, macs };
  }
  const leases: Record<string, string> = {};
  const endpoints: Record<string, string> = {};
  for (const kv of (await c.etcd.client.getPrefix(c.prefix.replace(/\/network$/, '/'))).kvs) {
    // Values as written (a fault may have put garbage there): the address by pattern, not by parsing.
    if (kv.key.includes('/subnets/')) leases[kv.key] = /"PublicIP":"([^"]*)"/.exec(kv.value)?.[1] ?? `(bad value) ${kv.value.slice(0, 20)}`;
    if (kv.key.includes('/endpoints/')) {
      const e = JSON.parse(kv.value) as { Network: string; Name: string; Host: string; IPv4Address: string };
      endpoints[`${e.Network}/${e.Name}`] = `${e.Host} ${e.IPv4Address}`;
    }
  }
  return { hosts, leases, addresses, endpoints };
}

/** Waits until the cluster's state is `before` again (a fault may leave work for the next reconcile), then checks it. */
export async function settles(x: Chaos, before: Inventory, fault: string): Promise<void> {
  let last: Inventory | undefined;
  try {
    await converged(
      `${fault}: state as before`,
      async () => {
        last = await inventory(x);
        return JSON.stringify(last) === JSON.stringify(before);
      },
      30_000,
    );
  } catch {
    // fall through to the comparison, which names what differs
  }
  expectNothingLost(before, last ?? (await inventory(x)));
}

/** Nothing was lost or duplicated: same leases, subnets, MACs, allocations and endpoint records; no address twice. */
export function expectNothingLost(before: Inventory, after: Inventory): void {
  expect(after.leases).toEqual(before.leases);
  expect(after.hosts).toEqual(before.hosts);
  expect(after.addresses).toEqual(before.addresses);
  expect(after.endpoints).toEqual(before.endpoints);
  const all = Object.entries(after.addresses).flatMap(([k, ips]) => ips.map((ip) => `${k.split('/')[1]} ${ip}`));
  expect(new Set(all).size, 'an address allocated twice').toBe(all.length);
}
