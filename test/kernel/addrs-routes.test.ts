import { describe, expect, it } from 'vitest';
import { Netlink, RT_SCOPE } from '../../pkg/kernel/mod.ts';
import { addUplink, defer, makeNetns } from '../helpers/netns.ts';
import { ipJson } from '../helpers/sh.ts';

async function setup(tag: string) {
  const t = makeNetns(tag);
  const h = Netlink.open({ netns: t.ns });
  defer(() => h.close());
  const d = await addUplink(h, 'd0');
  return { t, h, d };
}

describe('Netlink addresses', () => {
  it('addAddr()/listAddrs()/deleteAddr() for IPv4 and IPv6 match `ip -j addr`', async () => {
    const { t, h, d } = await setup('aa');
    await h.addAddr({ index: d.index, cidr: '10.10.10.1/24' });
    await h.addAddr({ index: d.index, cidr: 'fd10::1/64', noDad: true });

    const ip = ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number; broadcast?: string }> }>>(t.name, [
      'addr',
      'show',
      'dev',
      'd0',
    ])[0]!;
    const seen = ip.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
    expect(seen).toEqual(expect.arrayContaining(['10.10.10.1/24', 'fd10::1/64']));
    expect(ip.addr_info.find((a) => a.local === '10.10.10.1')?.broadcast).toBe('10.10.10.255');

    const mine = await h.listAddrs({ index: d.index });
    expect(mine.map((a) => a.cidr)).toEqual(expect.arrayContaining(['10.10.10.1/24', 'fd10::1/64']));
    expect(mine.find((a) => a.cidr === 'fd10::1/64')?.tentative).toBe(false);
    expect((await h.listAddrs({ index: d.index, family: 4 })).map((a) => a.cidr)).toEqual(['10.10.10.1/24']);

    await expect(h.addAddr({ index: d.index, cidr: '10.10.10.1/24' })).rejects.toMatchObject({ errnoName: 'EEXIST' });
    await h.deleteAddr({ index: d.index, cidr: '10.10.10.1/24' });
    await expect(h.deleteAddr({ index: d.index, cidr: '10.10.10.1/24' })).rejects.toMatchObject({ errnoName: 'EADDRNOTAVAIL' });
    expect(ipJson<Array<{ addr_info: unknown[] }>>(t.name, ['-4', 'addr', 'show', 'dev', 'd0'])).toEqual([]);
  });
});

describe('Netlink routes', () => {
  it('adds routes with gateway, onlink, metric, table, scope and MTU exactly as `ip -j route` reports them', async () => {
    const { t, h, d } = await setup('ra');
    await h.addAddr({ index: d.index, cidr: '10.1.0.2/24' });
    await h.addRoute({ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: d.index, onlink: true });
    await h.addRoute({ dst: '0.0.0.0/0', gateway: '10.1.0.1', metric: 100, mtu: 1400 });
    await h.addRoute({ dst: '10.9.0.0/16', oif: d.index, table: 1234 });
    await h.addRoute({ dst: '10.8.0.0/16', oif: d.index, scope: RT_SCOPE.LINK, metric: 7 });

    const main = ipJson<Array<Record<string, unknown>>>(t.name, ['route', 'show']);
    expect(main).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'd0', flags: ['onlink'] }),
        expect.objectContaining({ dst: 'default', gateway: '10.1.0.1', metric: 100, metrics: [{ mtu: 1400 }] }),
        expect.objectContaining({ dst: '10.8.0.0/16', scope: 'link', metric: 7 }),
      ]),
    );
    expect(ipJson(t.name, ['route', 'show', 'table', '1234'])).toEqual([expect.objectContaining({ dst: '10.9.0.0/16', dev: 'd0' })]);

    const listed = await h.listRoutes({ family: 4 });
    expect(listed.find((r) => r.dst === '10.244.2.0/24')).toMatchObject({ gateway: '10.244.2.0', onlink: true, oif: d.index });
    expect(listed.find((r) => r.dst === '0.0.0.0/0')).toMatchObject({ metric: 100, mtu: 1400 });
    expect(listed.some((r) => r.dst === '10.9.0.0/16')).toBe(false);
    expect((await h.listRoutes({ table: 1234 })).map((r) => r.dst)).toEqual(['10.9.0.0/16']);
  });

  it('replaceRoute() changes the next hop in place; deleteRoute() reports ESRCH once gone', async () => {
    const { t, h, d } = await setup('rr');
    await h.addAddr({ index: d.index, cidr: '10.1.0.2/24' });
    await h.addRoute({ dst: '10.50.0.0/16', gateway: '10.1.0.1' });
    await expect(h.addRoute({ dst: '10.50.0.0/16', gateway: '10.1.0.3' })).rejects.toMatchObject({ errnoName: 'EEXIST' });
    await h.replaceRoute({ dst: '10.50.0.0/16', gateway: '10.1.0.3' });
    expect(ipJson(t.name, ['route', 'show', '10.50.0.0/16'])).toEqual([expect.objectContaining({ gateway: '10.1.0.3' })]);
    await h.deleteRoute({ dst: '10.50.0.0/16' });
    expect(ipJson(t.name, ['route', 'show', '10.50.0.0/16'])).toEqual([]);
    await expect(h.deleteRoute({ dst: '10.50.0.0/16' })).rejects.toMatchObject({ errnoName: 'ESRCH' });
  });

  it('handles IPv6 routes', async () => {
    const { t, h, d } = await setup('r6');
    await h.addAddr({ index: d.index, cidr: 'fd00:1::2/64', noDad: true });
    await h.addRoute({ dst: 'fd00:2::/64', gateway: 'fd00:1::1', metric: 1024 });
    expect(ipJson(t.name, ['-6', 'route', 'show', 'fd00:2::/64'])).toEqual([expect.objectContaining({ gateway: 'fd00:1::1', dev: 'd0' })]);
    expect((await h.listRoutes({ family: 6 })).find((r) => r.dst === 'fd00:2::/64')).toMatchObject({ gateway: 'fd00:1::1', metric: 1024 });
  });
});
