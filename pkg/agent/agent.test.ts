/**
 * The network agent against fakes of the store, the kernel and nft, on a fake clock (issue 12): the real
 * lease keeper and etcd lease source over an in-memory store, so start-up, peers, repairs, take-back and
 * teardown run in milliseconds. The same behaviour against real etcd and namespaces is in test/chaos/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { FirewallKeeper } from '../firewall/mod.ts';
import { FakeNft } from '../firewall/testing/fake-nft.ts';
import { EtcdLeaseSource } from '../lease/mod.ts';
import { FakeClock } from '../lease/testing/fake-clock.ts';
import { FakeSubnetStore } from '../lease/testing/fake-store.ts';
import { createLogger } from '../log/logger.ts';
import { NetworkAgent, type AgentSpec } from './agent.ts';
import { FakeKernel } from './testing/fake-kernel.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const peer = (ip: string, mac: string) => encodeLeaseAttrs({ publicIP: ip, vxlan: { vni: 1, vtepMac: mac } });

async function setup(o: { ownsBridge?: boolean; ports?: string[]; config?: string; sysctls?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-unit-agent-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const store = new FakeSubnetStore(clock);
  const kernel = new FakeKernel();
  const eth0 = kernel.addPlain('eth0');
  if (o.config) store.config = o.config;
  for (const [k, v] of Object.entries(o.sysctls ?? {})) kernel.sysctls.set(k, v);
  const nft = new FakeNft();
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const spec: AgentSpec = {
    key: o.ownsBridge ? 'RED' : '_default',
    network: o.ownsBridge ? 'RED' : '',
    ownsBridge: o.ownsBridge ?? false,
    subnetFile: join(dir, 'subnet.env'),
    stateDir: join(dir, 'state'),
    ipMasq: true,
    ipMasqFullyRandom: false,
    forwardRules: true,
    renewMarginMs: 3_600_000,
    leaseTtlSeconds: 86_400,
    resyncMs: 30_000,
  };
  const iface = {
    name: 'eth0',
    index: eth0.index,
    address: '192.0.2.1',
    publicIP: '192.0.2.1',
    vtepLocal: '192.0.2.1',
    mtu: 1500,
    prefixes: ['192.0.2.0/24'],
  };
  const vxlanTold: string[][] = [];
  const fdbWhenTold: string[][] = [];
  const agent = new NetworkAgent(spec, {
    source: (l) => new EtcdLeaseSource(store, l, clock),
    nl: kernel,
    iface,
    log,
    firewall: new FirewallKeeper({ log, runner: nft }),
    ports: () => o.ports ?? [],
    clock,
    onVxlanPeers: () => {
      vxlanTold.push([...(agent.vxlanSource()?.peers ?? [])]);
      fdbWhenTold.push(kernel.fdb.flatMap((f) => f.dst ?? []));
    },
  });
  const started = agent.start();
  await clock.advance(0);
  await started;
  const dev = () => [...kernel.links.values()].find((l) => l.name === (o.ownsBridge ? 'weft.1' : 'flannel.1'));
  const subnetKey = (s: string) => `${store.subnetsPrefix}/${s.replace('/', '-')}`;
  return { agent, clock, store, kernel, nft, lines, dev, dir, subnetKey, vxlanTold, fdbWhenTold };
}

describe('NetworkAgent', () => {
  it('starts: holds a lease, makes the VTEP, writes the subnet file and the firewall table, programs every peer, is ready', async () => {
    const t = await setup();
    const status = t.agent.status();
    expect(status).toMatchObject({ network: '_default', configured: true, ready: true, peers: 0, device: 'flannel.1' });
    expect(readFileSync(join(t.dir, 'subnet.env'), 'utf8')).toContain(`FLANNEL_SUBNET=${status.subnet!.replace(/\.0\//, '.1/')}`);
    expect(t.dev()).toMatchObject({ kind: 'vxlan', mtu: 1450, up: true, vxlan: { vni: 1, local: '192.0.2.1', learning: false } });
    expect([...t.nft.tables.keys()]).toEqual(['ip weft_default']);

    t.store.put(t.subnetKey('10.244.200.0/24'), peer('198.51.100.7', '02:00:00:00:07:01'));
    await t.clock.advance(0);
    const i = t.dev()!.index;
    expect(t.kernel.routes).toContainEqual(
      expect.objectContaining({ dst: '10.244.200.0/24', gateway: '10.244.200.0', oif: i, onlink: true }),
    );
    expect(t.kernel.neighs).toContainEqual(expect.objectContaining({ index: i, ip: '10.244.200.0', mac: '02:00:00:00:07:01' }));
    expect(t.kernel.fdb).toContainEqual(expect.objectContaining({ index: i, mac: '02:00:00:00:07:01', dst: '198.51.100.7' }));
    t.store.remove(t.subnetKey('10.244.200.0/24'));
    await t.clock.advance(0);
    expect(t.kernel.routes.filter((r) => r.dst === '10.244.200.0/24')).toEqual([]);
    expect(t.agent.status().repairs).toBe(0);
  });

  it("a peer's key on this host's or an earlier peer's subnet is not programmed and is reported as a conflict (issue 24)", async () => {
    const t = await setup();
    const own = t.agent.status().subnet!;
    t.store.put(t.subnetKey('10.244.200.0/24'), peer('198.51.100.7', '02:00:00:00:07:01'));
    t.store.put(t.subnetKey('10.244.200.0/23'), peer('198.51.100.8', '02:00:00:00:08:01'));
    t.store.put(t.subnetKey(own.replace('/24', '/25')), peer('198.51.100.9', '02:00:00:00:09:01'));
    await t.clock.advance(0);
    expect(t.kernel.routes.map((r) => r.dst)).toEqual(['10.244.200.0/24']);
    expect(t.kernel.fdb.map((f) => f.dst)).toEqual(['198.51.100.7']);
    const conflicts = t.agent.report(false).conflicts ?? [];
    expect(conflicts.map((c) => `${c.publicIP} gives way to ${c.with.split('/').pop()}`).sort()).toEqual([
      '198.51.100.8 gives way to 10.244.200.0-24',
      `198.51.100.9 gives way to ${own.replace('/', '-')}`,
    ]);
    expect(t.lines.filter((l) => l.includes('lease conflict'))).toHaveLength(2);
    await t.clock.advance(30_000);
    expect(t.lines.filter((l) => l.includes('lease conflict'))).toHaveLength(2);
  });

  it('tells the hosts it sends VXLAN to (a conflicting key left out) when they change, before programming them (issue 25)', async () => {
    const t = await setup();
    expect(t.agent.vxlanSource()).toEqual({ port: 0, vni: 1, peers: [] });
    t.store.put(t.subnetKey('10.244.200.0/24'), peer('198.51.100.7', '02:00:00:00:07:01'));
    t.store.put(t.subnetKey('10.244.200.0/23'), peer('198.51.100.8', '02:00:00:00:08:01'));
    await t.clock.advance(0);
    expect(t.agent.vxlanSource()?.peers).toEqual(['198.51.100.7']);
    t.store.remove(t.subnetKey('10.244.200.0/24'));
    await t.clock.advance(0);
    expect(t.vxlanTold).toEqual([['198.51.100.7'], ['198.51.100.8']]);
    // Told before the pass programs the new peer: its datagrams are accepted before this host sends to it.
    expect(t.fdbWhenTold).toEqual([[], ['198.51.100.7']]);
  });

  it("a lease change needs no kernel dump, its writes' echoes cost nothing, a resync dumps only as a backstop (issue 28)", async () => {
    const t = await setup();
    const dumps = () => t.kernel.dumps;
    const i = t.dev()!.index;
    const before = dumps();
    t.store.put(t.subnetKey('10.244.200.0/24'), peer('198.51.100.7', '02:00:00:00:07:01'));
    await t.clock.advance(0);
    expect(t.kernel.routes.map((r) => r.dst)).toEqual(['10.244.200.0/24']);
    // The echoes of those three writes, as the kernel sends them.
    t.agent.onKernelEvent({ kind: 'neigh', op: 'new', index: i, ip: '10.244.200.0', mac: '02:00:00:00:07:01', permanent: true });
    t.agent.onKernelEvent({ kind: 'fdb', op: 'new', index: i, mac: '02:00:00:00:07:01', dst: '198.51.100.7', self: true });
    t.agent.onKernelEvent({ kind: 'route', op: 'new', dst: '10.244.200.0/24', oif: i, gateway: '10.244.200.0', onlink: true });
    await t.clock.advance(100);
    t.store.remove(t.subnetKey('10.244.200.0/24'));
    await t.clock.advance(0);
    expect(t.kernel.routes).toEqual([]);
    expect(dumps()).toBe(before);
    // Nine resyncs check the devices but dump no peer entries; the tenth dumps and diffs in full.
    await t.clock.advance(9 * 30_000);
    expect(dumps()).toBe(before);
    await t.clock.advance(30_000);
    expect(dumps()).toBe(before + 3);
    expect(t.agent.status().repairs).toBe(0);
  });

  it('repairs what is changed behind its back when the kernel says so: entries, the device, forwarding', async () => {
    const t = await setup();
    t.store.put(t.subnetKey('10.244.200.0/24'), peer('198.51.100.7', '02:00:00:00:07:01'));
    await t.clock.advance(0);
    const mac = t.dev()!.mac;
    t.kernel.routes = [];
    t.kernel.fdb = [];
    t.agent.onKernelEvent({ kind: 'route', op: 'del', dst: '10.244.200.0/24', oif: t.dev()!.index });
    await t.clock.advance(100);
    expect(t.kernel.routes.map((r) => r.dst)).toEqual(['10.244.200.0/24']);
    expect(t.kernel.fdb).toHaveLength(1);
    expect(t.lines.at(-1)).toMatch(/warn {2}repaired what changed behind weft's back: peer entries: /);

    await t.kernel.deleteLink('flannel.1');
    t.kernel.writeSysctl('net/ipv4/ip_forward', '0');
    t.agent.onKernelEvent({ kind: 'link', op: 'del', index: 0, name: 'flannel.1' });
    await t.clock.advance(100);
    expect(t.dev()).toMatchObject({ mac, up: true, mtu: 1450 });
    expect(t.kernel.routes.map((r) => r.dst)).toEqual(['10.244.200.0/24']);
    expect(t.kernel.readSysctl('net/ipv4/ip_forward')).toBe('1');
    expect(t.lines.at(-1)).toMatch(/flannel\.1: missing \| .*net\.ipv4\.ip_forward was 0: set to 1/);
    expect(t.agent.status().repairs).toBeGreaterThanOrEqual(3);
  });

  it("an IPv6-only network's VTEP is addressed in IPv6; the host rule sets accept_ra before IPv6 forwarding (issue 27)", async () => {
    const t = await setup({
      ownsBridge: true,
      config: '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00:72::/56","Backend":{"Type":"vxlan"}}',
      sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv6/conf/eth0/accept_ra': '1' },
    });
    const subnet = t.agent.status().subnet!;
    expect(subnet).toMatch(/^fd00:72:/);
    expect(t.kernel.addrs.filter((a) => a.index === t.dev()!.index).map((a) => a.cidr)).toEqual([`${subnet.split('/')[0]}/128`]);
    expect(t.agent.status()).toMatchObject({ device: 'weft.1', device6: undefined });
    expect(t.agent.clusterNetwork()).toBe('fd00:72::/56');
    const sysctl = (k: string) => t.kernel.readSysctl(k);
    expect([sysctl('net/ipv6/conf/eth0/accept_ra'), sysctl('net/ipv6/conf/all/forwarding'), sysctl('net/ipv4/ip_forward')]).toEqual([
      '2',
      '1',
      '0',
    ]);
    expect(t.lines.filter((l) => / set net\./.test(l)).map((l) => l.replace(/^.* set /, 'set '))).toEqual([
      expect.stringMatching(/^set net\.ipv6\.conf\.eth0\.accept_ra to 2 \(it was 1\)/),
      expect.stringMatching(/^set net\.ipv6\.conf\.all\.forwarding to 1 \(it was 0\)/),
    ]);
  });

  it("an owned bridge comes back with its address and the containers' host ends on it", async () => {
    const t = await setup({ ownsBridge: true, ports: ['veth1', 'veth2'] });
    const br = () => [...t.kernel.links.values()].find((l) => l.name === 'w-RED');
    for (const p of ['veth1', 'veth2']) t.kernel.addPlain(p, { mtu: 1450, master: br()!.index });
    await t.kernel.deleteLink('w-RED');
    t.agent.onKernelEvent({ kind: 'link', op: 'del', index: 0, name: 'w-RED' });
    await t.clock.advance(100);
    expect(br()).toMatchObject({ kind: 'bridge', up: true });
    expect(
      [...t.kernel.links.values()]
        .filter((l) => l.master === br()!.index)
        .map((l) => l.name)
        .sort(),
    ).toEqual(['veth1', 'veth2']);
    expect(t.kernel.addrs.filter((a) => a.index === br()!.index).map((a) => a.cidr)).toEqual([`${t.agent.served()!.gateway}/24`]);
  });

  it('takes its subnet back when its key is deleted, and on teardown gives everything up', async () => {
    const t = await setup({ ownsBridge: true });
    const subnet = t.agent.status().subnet!;
    t.store.remove(t.subnetKey(subnet));
    await t.clock.advance(0);
    expect(t.store.kvs.has(t.subnetKey(subnet))).toBe(true);
    await t.agent.stop({ teardown: true });
    expect(t.store.kvs.size).toBe(0);
    expect([...t.kernel.links.values()].map((l) => l.name)).toEqual(['eth0']);
    expect(t.nft.tables.size).toBe(0);
  });
});
