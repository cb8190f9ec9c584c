import { describe, expect, it } from 'vitest';
import { Netlink } from '../../pkg/kernel/mod.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { bridgeJson, ipJson } from '../helpers/sh.ts';

async function vxlanHost(tag: string) {
  const t = makeNetns(tag);
  const h = Netlink.open({ netns: t.ns });
  defer(() => h.close());
  const vx = await h.addVxlan({ name: 'flannel.1', vni: 1, learning: false });
  await h.setUp(vx.index);
  return { t, h, vx };
}

describe('Netlink neighbours', () => {
  it('setNeigh() installs a permanent ARP entry, replaces its MAC, and deleteNeigh() removes it', async () => {
    const { t, h, vx } = await vxlanHost('na');
    await h.setNeigh({ index: vx.index, ip: '10.244.2.0', mac: 'c6:d2:32:6f:8f:44' });
    expect(ipJson(t.name, ['neigh', 'show', 'dev', 'flannel.1'])).toEqual([
      expect.objectContaining({ dst: '10.244.2.0', lladdr: 'c6:d2:32:6f:8f:44', state: ['PERMANENT'] }),
    ]);
    await h.setNeigh({ index: vx.index, ip: '10.244.2.0', mac: 'c6:d2:32:6f:8f:45' });
    expect((await h.listNeighs({ index: vx.index, family: 4 })).map((n) => [n.ip, n.mac, n.permanent])).toEqual([
      ['10.244.2.0', 'c6:d2:32:6f:8f:45', true],
    ]);
    await expect(h.addNeigh({ index: vx.index, ip: '10.244.2.0', mac: 'c6:d2:32:6f:8f:46' })).rejects.toMatchObject({
      errnoName: 'EEXIST',
    });

    await h.setNeigh({ index: vx.index, ip: 'fd00:2::', mac: 'c6:d2:32:6f:8f:47' });
    expect((await h.listNeighs({ index: vx.index, family: 6 })).filter((n) => n.permanent).map((n) => n.ip)).toEqual(['fd00:2::']);

    await h.deleteNeigh({ index: vx.index, ip: '10.244.2.0' });
    expect(ipJson(t.name, ['-4', 'neigh', 'show', 'dev', 'flannel.1'])).toEqual([]);
    await expect(h.deleteNeigh({ index: vx.index, ip: '10.244.2.0' })).rejects.toMatchObject({ errnoName: 'ENOENT' });
  });
});

describe('Netlink FDB', () => {
  it('addFdb()/replaceFdb()/listFdb()/deleteFdb() manage `self permanent` entries towards a VTEP', async () => {
    const { t, h, vx } = await vxlanHost('fa');
    await h.addFdb({ index: vx.index, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.12' });
    expect(bridgeJson(t.name, ['fdb', 'show', 'dev', 'flannel.1'])).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.12', flags: ['self'], state: 'permanent' }),
      ]),
    );
    await expect(h.addFdb({ index: vx.index, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.12' })).rejects.toMatchObject({ errnoName: 'EEXIST' });

    await h.replaceFdb({ index: vx.index, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.13' });
    const mine = (await h.listFdb({ index: vx.index })).filter((f) => f.mac === 'c6:d2:32:6f:8f:44');
    expect(mine).toEqual([expect.objectContaining({ dst: '192.0.2.13', self: true, permanent: true })]);

    await h.deleteFdb({ index: vx.index, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.13' });
    expect(bridgeJson<Array<{ mac: string }>>(t.name, ['fdb', 'show', 'dev', 'flannel.1']).map((f) => f.mac)).not.toContain(
      'c6:d2:32:6f:8f:44',
    );
    await expect(h.deleteFdb({ index: vx.index, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.13' })).rejects.toMatchObject({
      errnoName: 'ENOENT',
    });
  });
});
