import { describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { createLogger } from '../log/logger.ts';
import { LeaseKeeper, type HeldLease, type KeeperSpec } from './keeper.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeSubnetStore } from './testing/fake-store.ts';

const HOUR = 3_600_000;
const config: FamilyConfig = { network: '10.244.0.0/16', subnetLen: 24, subnetMin: '10.244.1.0', subnetMax: '10.244.255.0' };
const value = (ip: string, mac = '02:00:00:00:00:01') => encodeLeaseAttrs({ publicIP: ip, vxlan: { vni: 1, vtepMac: mac } });
const config6: FamilyConfig = { network: 'fc00::/48', subnetLen: 64, subnetMin: 'fc00:0:0:1::', subnetMax: 'fc00:0:0:ffff::' };
const value6 = (ip: string, ip6: string) =>
  encodeLeaseAttrs({
    publicIP: ip,
    publicIPv6: ip6,
    vxlan: { vni: 1, vtepMac: '02:00:00:00:00:01' },
    vxlanV6: { vni: 1, vtepMac: '02:00:00:00:00:61' },
  });

/** A keeper over a fake store and clock; `jitter` is what spreads its waits (0: exact times). */
function setup(spec: Partial<KeeperSpec> = {}, jitter = 0) {
  const clock = new FakeClock();
  const store = new FakeSubnetStore(clock);
  const lines: string[] = [];
  const abort = new AbortController();
  const keeper = new LeaseKeeper(
    store,
    {
      config,
      publicIP: '192.0.2.1',
      value: value('192.0.2.1'),
      previousSubnet: undefined,
      pinned: false,
      renewMarginMs: HOUR,
      ttlSeconds: 86_400,
      ...spec,
    },
    { log: createLogger({ write: (l) => lines.push(l) }), clock, signal: abort.signal, jitter: () => jitter },
  );
  const key = (subnet: string) => `${store.subnetsPrefix}/${subnet.replace('/', '-')}`;
  return { clock, store, lines, abort, keeper, key };
}

describe('LeaseKeeper', () => {
  it('holds a lease for days: renewed an hour before each expiry, never lapsing', async () => {
    const { clock, store, keeper } = setup();
    const held = await keeper.acquire();
    expect(store.kvs.get(held.key)?.value).toBe(value('192.0.2.1'));
    for (let day = 0; day < 3; day++) {
      await clock.advance(24 * HOUR);
      expect(store.kvs.has(held.key), `day ${day + 1}`).toBe(true);
    }
    expect(keeper.held!.expiresAt).toBeGreaterThan(clock.now() + HOUR);
  });

  it('jitters renewals earlier, never later (issue 28): hosts renewing in step drift apart', async () => {
    const renewals = async (jitter: number) => {
      const { clock, store, keeper } = setup({}, jitter);
      const held = await keeper.acquire();
      const at: number[] = [];
      for (let day = 0; day < 3; day++) {
        const before = keeper.held!.expiresAt;
        while (keeper.held!.expiresAt === before) await clock.advance(60_000);
        at.push(clock.now());
      }
      expect(store.kvs.has(held.key)).toBe(true);
      return at;
    };
    const [steady, early] = [await renewals(0), await renewals(0.999)];
    // Each renewal up to a tenth of the one-hour margin (6 min) earlier, so the lag grows renewal by renewal.
    expect(steady[0]! - early[0]!).toBeGreaterThanOrEqual(5 * 60_000);
    expect(steady[2]! - early[2]!).toBeGreaterThanOrEqual(3 * 5 * 60_000);
    expect(early.every((t, i) => t <= steady[i]!)).toBe(true);
  });

  it('retries a failed renewal every minute and recovers when etcd is back', async () => {
    const { clock, store, keeper, lines } = setup();
    const held = await keeper.acquire();
    await clock.advance(23 * HOUR - 1000);
    store.down = 'etcd at http://10.0.0.5:2379 is unreachable (ECONNREFUSED: connection refused)';
    await clock.advance(5 * 60_000);
    expect(
      lines.filter((l) => l.includes('lease renewal failed: etcd at http://10.0.0.5:2379 is unreachable')).length,
    ).toBeGreaterThanOrEqual(4);
    store.down = undefined;
    await clock.advance(60_000);
    expect(keeper.held!.expiresAt).toBeGreaterThan(clock.now() + 23 * HOUR);
    expect(store.kvs.has(held.key)).toBe(true);
  });

  it('takes the same subnet back when its lease lapsed, and when its key was deleted', async () => {
    const { clock, store, keeper } = setup();
    const held = await keeper.acquire();
    store.leases.clear();
    store.kvs.clear();
    await keeper.renew();
    expect(store.kvs.get(held.key)?.value).toBe(value('192.0.2.1'));
    expect(keeper.held!.subnet).toBe(held.subnet);
    store.kvs.delete(held.key);
    await keeper.takeBack();
    expect(store.kvs.has(held.key)).toBe(true);
    expect(keeper.state).toEqual({ ok: true });
    await clock.advance(0);
  });

  it('stays not ready, naming the holder, while another host holds its subnet; takes it back once freed', async () => {
    const { clock, store, keeper } = setup();
    const held = await keeper.acquire();
    store.kvs.delete(held.key);
    store.put(held.key, value('192.0.2.9'));
    const back = keeper.takeBack();
    await clock.advance(0);
    expect(keeper.state).toEqual({
      ok: false,
      reason:
        `subnet ${held.subnet} of this host is now held by 192.0.2.9; ` +
        "this host's pods keep their addresses until an operator frees it or restarts them",
    });
    store.kvs.delete(held.key);
    await clock.advance(10_000);
    await back;
    expect(keeper.state).toEqual({ ok: true });
    expect(store.kvs.get(held.key)?.value).toBe(value('192.0.2.1'));
  });

  it('never creates a lease under a removed network: no take-back, no acquire (issue 11)', async () => {
    const { clock, store, keeper, abort } = setup();
    const held = await keeper.acquire();
    store.config = undefined;
    store.kvs.delete(held.key);
    await keeper.takeBack();
    expect(store.kvs.size).toBe(0);
    expect(keeper.state).toMatchObject({ ok: false, reason: expect.stringContaining('is gone (the network was removed)') });

    const second = setup();
    second.store.config = undefined;
    const p = second.keeper.acquire();
    await second.clock.advance(30_000);
    expect(second.keeper.state).toMatchObject({ ok: false, reason: expect.stringContaining('no lease is taken under a removed network') });
    second.abort.abort(new Error('stopped'));
    await expect(p).rejects.toThrow('stopped');
    expect(second.store.kvs.size).toBe(0);
    abort.abort();
    await clock.advance(0);
  });

  it('loses a creation race gracefully: that subnet is excluded and another one taken', async () => {
    const { store, keeper } = setup({ previousSubnet: '10.244.7.0/24' });
    let raced = false;
    store.beforeCreate = (k) => {
      if (raced) return;
      raced = true;
      store.put(k, value('192.0.2.2'));
    };
    const held = await keeper.acquire();
    expect(held.subnet).not.toBe('10.244.7.0/24');
    expect(store.kvs.get(held.key)?.value).toBe(value('192.0.2.1'));
  });

  it('after each lost race waits longer, at random, before trying again (issue 28: every host at once)', async () => {
    const { clock, store, keeper } = setup({}, 1);
    let races = 0;
    store.beforeCreate = (k) => {
      if (races++ < 3) store.put(k, value(`192.0.2.${10 + races}`));
    };
    let held: HeldLease | undefined;
    void keeper.acquire().then((h) => {
      held = h;
    });
    // Waits of 50, 100 and 200 ms (the jitter at its largest): nothing before 350 ms, the lease at 350 ms.
    await clock.advance(349);
    expect(held).toBeUndefined();
    await clock.advance(1);
    expect(held?.key).toBeDefined();
    expect(races).toBe(4);
  });

  it('prefers the subnet file over a forged lease with its address, and logs the ignored one once (issue 11)', async () => {
    const { store, keeper, lines, key } = setup({ previousSubnet: '10.244.66.0/24', pinned: true });
    store.put(key('10.244.1.0/24'), value('192.0.2.1', '02:00:00:00:00:99'));
    const held = await keeper.acquire();
    expect(held.subnet).toBe('10.244.66.0/24');
    expect(
      lines.filter((l) =>
        l.includes(
          `ignoring ${key('10.244.1.0/24')}, which carries this host's address 192.0.2.1: this host's subnet file says 10.244.66.0/24`,
        ),
      ),
    ).toHaveLength(1);
  });

  it('waits rather than renumber running containers when another host holds its subnet', async () => {
    const { clock, store, keeper, key } = setup({ previousSubnet: '10.244.66.0/24', pinned: true });
    store.put(key('10.244.66.0/24'), value('192.0.2.9'));
    const p = keeper.acquire();
    await clock.advance(0);
    expect(keeper.state).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        new RegExp(
          "^this host's subnet 10\\.244\\.66\\.0/24 \\(its containers are numbered from it\\) is held by 192\\.0\\.2\\.9 " +
            '.*rather than renumber running containers',
        ),
      ),
    });
    store.kvs.delete(key('10.244.66.0/24'));
    await clock.advance(10_000);
    expect((await p).subnet).toBe('10.244.66.0/24');
  });

  it("holds a dual-stack key (flannel's form), with the subnet file's IPv6 subnet when it is free", async () => {
    const { store, keeper } = setup({
      config6,
      previousSubnet: '10.244.5.0/24',
      previousSubnet6: 'fc00:0:0:5::/64',
      value: value6('192.0.2.1', '2001:db8::1'),
    });
    const held = await keeper.acquire();
    expect(held).toMatchObject({
      subnet: '10.244.5.0/24',
      subnet6: 'fc00:0:0:5::/64',
      key: `${store.subnetsPrefix}/10.244.5.0-24&fc00:0:0:5::-64`,
    });
    expect(store.kvs.get(held.key)?.value).toBe(value6('192.0.2.1', '2001:db8::1'));
  });

  it('turning IPv6 on keeps the IPv4 subnet: the IPv4-only key is replaced by a dual-stack one for the same subnet', async () => {
    const { store, keeper, key } = setup({
      config6,
      previousSubnet: '10.244.5.0/24',
      pinned: true,
      value: value6('192.0.2.1', '2001:db8::1'),
    });
    store.put(key('10.244.5.0/24'), value('192.0.2.1'), '55');
    const held = await keeper.acquire();
    expect(held.subnet).toBe('10.244.5.0/24');
    expect(held.subnet6).toMatch(/^fc00:0:0:[0-9a-f]+::\/64$/);
    expect([...store.kvs.keys()]).toEqual([held.key]);
  });

  it('two hosts that took one IPv6 subnet under different keys at once: the later one gives way and takes another', async () => {
    const { store, keeper, key } = setup({ config6, previousSubnet6: 'fc00:0:0:7::/64', value: value6('192.0.2.1', '2001:db8::1') });
    let raced = false;
    store.beforeCreate = () => {
      if (raced) return;
      raced = true;
      store.put(`${key('10.244.200.0/24')}&fc00:0:0:7::-64`, value6('192.0.2.2', '2001:db8::2'), '0');
    };
    const held = await keeper.acquire();
    expect(held.subnet6).not.toBe('fc00:0:0:7::/64');
    expect(store.kvs.size).toBe(2);
  });

  it("an IPv6-only network's key is chosen by its IPv6 half, behind flannel's empty IPv4 one", async () => {
    const { store, keeper } = setup({ config: config6, previousSubnet: 'fc00:0:0:9::/64', value: value('192.0.2.1') });
    store.put(`${store.subnetsPrefix}/0.0.0.0-0&fc00:0:0:8::-64`, value('192.0.2.2'), '0');
    const held = await keeper.acquire();
    expect(held).toMatchObject({ subnet: 'fc00:0:0:9::/64', key: `${store.subnetsPrefix}/0.0.0.0-0&fc00:0:0:9::-64` });
    const second = setup({ config: config6, previousSubnet: 'fc00:0:0:8::/64', value: value('192.0.2.3') });
    second.store.put(`${second.store.subnetsPrefix}/0.0.0.0-0&fc00:0:0:8::-64`, value('192.0.2.2'), '0');
    expect((await second.keeper.acquire()).subnet).not.toBe('fc00:0:0:8::/64');
  });

  it("a key of this host's sharing its IPv4 half with an earlier key gives way: deleted, another subnet taken (issue 24)", async () => {
    const { store, keeper, key, lines } = setup({ config6, value: value6('192.0.2.1', '2001:db8::1') });
    const earlier = `${key('10.244.9.0/24')}&fc00:0:0:42::-64`;
    store.put(earlier, value6('192.0.2.2', '2001:db8::2'), '0');
    const mine = `${key('10.244.9.0/24')}&fc00:0:0:55::-64`;
    store.put(mine, value6('192.0.2.1', '2001:db8::1'), '77');
    store.leases.set('77', { expiresAt: Infinity, ttl: 86_400 });
    const held = await keeper.acquire();
    expect(held.subnet).not.toBe('10.244.9.0/24');
    expect(held.subnet6).not.toBe('fc00:0:0:42::/64');
    expect([...store.kvs.keys()].sort()).toEqual([earlier, held.key].sort());
    expect(lines.join('\n')).toContain(`lease conflict: deleting this host's ${mine}`);
  });

  it('does not take its key back while another key holds either half; does once it is gone (issue 24)', async () => {
    const { store, keeper, clock } = setup({ config6, value: value6('192.0.2.1', '2001:db8::1') });
    const held = await keeper.acquire();
    store.remove(held.key);
    const squatter = `${store.subnetsPrefix}/10.244.250.0-24&${held.subnet6!.replace('/', '-')}`;
    store.put(squatter, value6('192.0.2.9', '2001:db8::9'), '0');
    const back = keeper.takeBack();
    await clock.advance(0);
    expect(keeper.state).toMatchObject({ ok: false, reason: expect.stringContaining(`held by 192.0.2.9 (${squatter})`) });
    expect(store.kvs.has(held.key)).toBe(false);
    store.remove(squatter);
    await clock.advance(10_000);
    await back;
    expect(store.kvs.has(held.key)).toBe(true);
    expect(keeper.state).toEqual({ ok: true });
  });

  it('gives the lease up on release: the key and its lease go', async () => {
    const { store, keeper } = setup();
    await keeper.acquire();
    await keeper.release();
    expect(store.kvs.size).toBe(0);
    expect(store.leases.size).toBe(0);
  });
});
