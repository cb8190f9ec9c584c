import { describe, expect, it } from 'vitest';
import { Netlink, openNetns } from '../../pkg/kernel/mod.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { ipJson } from '../helpers/sh.ts';

describe('kernel layer bad input', () => {
  it('a link name over 15 bytes is a typed error and creates nothing', async () => {
    const t = makeNetns('ba');
    const h = Netlink.open({ netns: t.ns });
    defer(() => h.close());
    await expect(h.addBridge({ name: 'averyveryverylongname' })).rejects.toMatchObject({
      code: 'WEFT_INVALID_ARGUMENT',
      message: 'interface name "averyveryverylongname" is 21 bytes; Linux allows at most 15',
    });
    await expect(h.addVeth({ name: 'ok0', peer: { name: 'peer-name-too-long' } })).rejects.toMatchObject({ code: 'WEFT_INVALID_ARGUMENT' });
    expect(ipJson<Array<{ ifname: string }>>(t.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('an unknown link is ENODEV with the operation and the namespace in the message', async () => {
    const t = makeNetns('bb');
    const h = Netlink.open({ netns: t.ns });
    defer(() => h.close());
    await expect(h.getLink('nosuch0')).rejects.toMatchObject({
      code: 'WEFT_KERNEL',
      errnoName: 'ENODEV',
      message: `get link "nosuch0" in ${t.path}: ENODEV (no such device)`,
    });
    expect(await h.findLink('nosuch0')).toBeUndefined();
    await expect(h.setUp(999_999)).rejects.toMatchObject({ errnoName: 'ENODEV' });
  });

  it('a veth whose peer name is taken in the target namespace fails with EEXIST and leaves no host end', async () => {
    const host = makeNetns('bc');
    const cont = makeNetns('bd');
    const h = Netlink.open({ netns: host.ns });
    const c = Netlink.open({ netns: cont.ns });
    defer(() => {
      h.close();
      c.close();
    });
    await c.addBridge({ name: 'eth0' });
    await expect(h.addVeth({ name: 'vhost0', peer: { name: 'eth0', netns: cont.ns } })).rejects.toMatchObject({ errnoName: 'EEXIST' });
    expect(await h.findLink('vhost0')).toBeUndefined();
  });

  it('a path that is not a namespace is refused before any socket is opened', () => {
    expect(() => Netlink.open({ netns: openNetns('/etc/hostname') })).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_NETNS' }));
  });
});
