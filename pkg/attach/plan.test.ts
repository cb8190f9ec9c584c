import { describe, expect, it } from 'vitest';
import { makePool } from '../ipam/mod.ts';
import { parseAttachConfig } from './config.ts';
import type { SubnetFile } from './subnet-file.ts';
import { planAttachment, resultOf } from './plan.ts';

const lease = (v6 = false): SubnetFile => ({
  file: '/run/flannel/subnet.env',
  pools: v6 ? [makePool('10.244.1.0/24'), makePool('fd00:0:0:1::/64')] : [makePool('10.244.1.0/24')],
  clusterNetworks: { 4: ['10.244.0.0/16'], 6: v6 ? ['fd00::/48'] : [] },
  mtu: 1450,
  ipMasq: true,
  vxlanDevice: undefined,
});
const cfg = (extra: object = {}) => parseAttachConfig({ cniVersion: '1.0.0', name: 'cbr0', ...extra }, new Map());

describe('planAttachment()', () => {
  it('plans the bridge gateway, the addresses and a default route; MAC follows the IPv4 address', () => {
    const p = planAttachment({ cfg: cfg(), lease: lease(), ips: ['10.244.1.7'], hostVeth: 'veth00000001', ifname: 'eth0' });
    expect(p.bridge).toMatchObject({ name: 'cni0', mtu: 1450, gateways: ['10.244.1.1/24'] });
    expect(p.hostVeth).toEqual({ name: 'veth00000001', mtu: 1450, hairpin: true });
    expect(p.container).toEqual({
      ifname: 'eth0',
      mtu: 1450,
      mac: '02:42:0a:f4:01:07',
      addresses: ['10.244.1.7/24'],
      routes: [{ dst: '0.0.0.0/0', gateway: '10.244.1.1' }],
    });
  });

  it('routes only the cluster network when isDefaultGateway is false, and honours mtu and mac overrides', () => {
    const p = planAttachment({
      cfg: cfg({ isDefaultGateway: false, mtu: 1400, runtimeConfig: { mac: '02:00:00:00:00:01' } }),
      lease: lease(),
      ips: ['10.244.1.7'],
      hostVeth: 'v',
      ifname: 'net1',
    });
    expect(p.container).toMatchObject({ mtu: 1400, mac: '02:00:00:00:00:01', routes: [{ dst: '10.244.0.0/16', gateway: '10.244.1.1' }] });
    expect(p.bridge.mtu).toBe(1400);
  });

  it('routes only the cluster network when the container already has a default route (a second attachment)', () => {
    const p = planAttachment({
      cfg: cfg(),
      lease: lease(),
      ips: ['10.244.1.7'],
      hostVeth: 'v',
      ifname: 'net1',
      routedDsts: new Set(['0.0.0.0/0']),
    });
    expect(p.container.routes).toEqual([{ dst: '10.244.0.0/16', gateway: '10.244.1.1' }]);
    const third = planAttachment({
      cfg: cfg(),
      lease: lease(),
      ips: ['10.244.1.8'],
      hostVeth: 'w',
      ifname: 'net2',
      routedDsts: new Set(['0.0.0.0/0', '10.244.0.0/16']),
    });
    expect(third.container.routes).toEqual([]);
  });

  it('plans both families for a dual-stack lease', () => {
    const p = planAttachment({ cfg: cfg(), lease: lease(true), ips: ['10.244.1.7', 'fd00:0:0:1::7'], hostVeth: 'v', ifname: 'eth0' });
    expect(p.bridge.gateways).toEqual(['10.244.1.1/24', 'fd00:0:0:1::1/64']);
    expect(p.container.addresses).toEqual(['10.244.1.7/24', 'fd00:0:0:1::7/64']);
    expect(p.container.routes).toEqual([
      { dst: '0.0.0.0/0', gateway: '10.244.1.1' },
      { dst: '::/0', gateway: 'fd00:0:0:1::1' },
    ]);
  });

  it("gives each host's bridge its own stable MAC", () => {
    const a = planAttachment({ cfg: cfg(), lease: lease(), ips: ['10.244.1.7'], hostVeth: 'v', ifname: 'eth0' });
    const b = planAttachment({ cfg: cfg(), lease: lease(), ips: ['10.244.1.9'], hostVeth: 'w', ifname: 'eth0' });
    expect(a.bridge.mac).toBe(b.bridge.mac);
    const other = planAttachment({
      cfg: cfg(),
      lease: { ...lease(), pools: [makePool('10.244.2.0/24')] },
      ips: ['10.244.2.7'],
      hostVeth: 'v',
      ifname: 'eth0',
    });
    expect(other.bridge.mac).not.toBe(a.bridge.mac);
  });
});

describe('resultOf()', () => {
  it('lists bridge, host veth (no sandbox) and the container interface (with sandbox); IPs point at it', () => {
    const p = planAttachment({ cfg: cfg(), lease: lease(), ips: ['10.244.1.7'], hostVeth: 'veth00000001', ifname: 'eth0' });
    const r = resultOf(p, { bridge: 'aa:aa:aa:aa:aa:aa', hostVeth: 'bb:bb:bb:bb:bb:bb', container: '02:42:0a:f4:01:07' }, '/run/netns/c1', {
      nameservers: ['10.96.0.10'],
    });
    expect(r.interfaces).toEqual([
      { name: 'cni0', mac: 'aa:aa:aa:aa:aa:aa', mtu: 1450 },
      { name: 'veth00000001', mac: 'bb:bb:bb:bb:bb:bb', mtu: 1450 },
      { name: 'eth0', mac: '02:42:0a:f4:01:07', mtu: 1450, sandbox: '/run/netns/c1' },
    ]);
    expect(r.ips).toEqual([{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 2 }]);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
    expect(r.dns).toEqual({ nameservers: ['10.96.0.10'] });
  });
});
