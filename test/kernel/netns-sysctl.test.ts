import { describe, expect, it } from 'vitest';
import { Netlink, openNetns, readSysctl, withNetns, writeSysctl } from '../../pkg/kernel/mod.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { inNetns } from '../helpers/sh.ts';

describe('openNetns()', () => {
  it('tells a missing path (WEFT_UNKNOWN_CONTAINER) from a file that is not a network namespace (WEFT_INVALID_NETNS)', () => {
    expect(() => openNetns('/run/netns/weft-does-not-exist')).toThrow(expect.objectContaining({ code: 'WEFT_UNKNOWN_CONTAINER' }));
    expect(() => openNetns('/etc/hostname')).toThrow(
      expect.objectContaining({ code: 'WEFT_INVALID_NETNS', message: expect.stringContaining('nsfs') }),
    );
    expect(() => openNetns('/proc/self/ns/mnt')).toThrow(
      expect.objectContaining({ code: 'WEFT_INVALID_NETNS', message: '/proc/self/ns/mnt is not a network namespace' }),
    );
  });

  it('opens /proc/PID/ns/net and gives two paths to one namespace the same id', () => {
    const a = openNetns('/proc/self/ns/net');
    const b = openNetns(`/proc/${process.pid}/ns/net`);
    defer(() => {
      a.close();
      b.close();
    });
    expect(a.id).toBe(b.id);
  });
});

describe('withNetns()', () => {
  it('a socket opened inside stays bound to that namespace after the block returns', async () => {
    const t = makeNetns('wa');
    const inside = Netlink.open({ netns: t.ns });
    const outside = Netlink.open();
    defer(() => {
      inside.close();
      outside.close();
    });
    await inside.addBridge({ name: 'onlyhere0' });
    expect((await inside.listLinks()).map((l) => l.name)).toContain('onlyhere0');
    expect(await outside.findLink('onlyhere0')).toBeUndefined();
  });

  it('refuses an async block and still returns to the original namespace', async () => {
    const t = makeNetns('wb');
    const before = openNetns('/proc/thread-self/ns/net');
    defer(() => before.close());
    expect(() => withNetns(t.ns, () => Promise.resolve(1))).toThrow(/synchronous/);
    const after = openNetns('/proc/thread-self/ns/net');
    defer(() => after.close());
    expect(after.id).toBe(before.id);
  });
});

describe('sysctls', () => {
  it('writeSysctl()/readSysctl() inside a namespace change only that namespace', () => {
    const t = makeNetns('sa');
    const hostValue = readSysctl('net/ipv4/ip_forward');
    writeSysctl('net/ipv4/ip_forward', '1', { netns: t.ns });
    expect(readSysctl('net/ipv4/ip_forward', { netns: t.ns })).toBe('1');
    expect(inNetns(t.name, 'cat', ['/proc/sys/net/ipv4/ip_forward']).stdout.trim()).toBe('1');
    expect(readSysctl('net/ipv4/ip_forward')).toBe(hostValue);
  });

  it('handles interface names with dots and reports a missing key as a kernel error', async () => {
    const t = makeNetns('sb');
    const h = Netlink.open({ netns: t.ns });
    defer(() => h.close());
    await h.addVxlan({ name: 'flannel.1', vni: 1 });
    writeSysctl('net/ipv6/conf/flannel.1/accept_ra', '0', { netns: t.ns });
    expect(readSysctl('net/ipv6/conf/flannel.1/accept_ra', { netns: t.ns })).toBe('0');
    expect(() => readSysctl('net/ipv4/conf/nosuch0/forwarding', { netns: t.ns })).toThrow(
      expect.objectContaining({ code: 'WEFT_KERNEL', errnoName: 'ENOENT' }),
    );
    expect(() => writeSysctl('kernel/hostname', 'x')).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_ARGUMENT' }));
  });
});
