/** The host registry's claims (issue 24) on the in-memory etcd model, its leases on a fake clock. */
import { describe, expect, it } from 'vitest';
import type { HostRecord } from '../hosts/mod.ts';
import { FakeClock } from '../lease/testing/fake-clock.ts';
import { MemoryKv, overriding } from './etcd/testing/memory-kv.ts';
import { HostRegistry } from './hosts.ts';

const ROOT = '/p/weft';
const KEY = `${ROOT}/hosts/192.0.2.1`;
const h1: HostRecord = { HostID: 'a'.repeat(32), NodeName: 'clone', PublicIP: '192.0.2.1', Started: 't1' };
const h4: HostRecord = { HostID: 'b'.repeat(32), NodeName: 'h4', PublicIP: '192.0.2.1', Started: 't4' };

describe('HostRegistry.claim()', () => {
  it('claims a free address on an etcd lease; another host ID is refused while that record lives, not after', async () => {
    const clock = new FakeClock();
    const kv = new MemoryKv(() => clock.now());
    const reg = new HostRegistry(kv, ROOT);
    const c = await reg.claim(h1, 90);
    expect(c).toMatchObject({ claimed: true, warnings: [] });
    const kv1 = await kv.get(KEY);
    expect(JSON.parse(kv1!.value)).toEqual(h1);
    expect(kv1!.lease).toBe(c.claimed && c.leaseId);

    expect(await reg.claim(h4, 90)).toEqual({
      claimed: false,
      reason:
        'another host (node clone, host ID aaaaaaaa…) already runs weft with public address 192.0.2.1; ' +
        'give this host its own --public-ip or --iface',
    });
    await clock.advance(91_000);
    expect(await reg.claim(h4, 90)).toMatchObject({ claimed: true });
  });

  it('lets the same host ID take its live record over (a restart), on a new lease', async () => {
    const kv = new MemoryKv();
    const reg = new HostRegistry(kv, ROOT);
    const first = await reg.claim(h1, 90);
    const again = await reg.claim({ ...h1, Started: 't2' }, 90);
    expect(again.claimed).toBe(true);
    expect(again.claimed && first.claimed && again.leaseId !== first.leaseId).toBe(true);
    expect((await kv.get(KEY))?.lease).toBe(again.claimed && again.leaseId);
  });

  it('two hosts claiming one address at once: the one whose transaction comes second reads again and is refused', async () => {
    const kv = new MemoryKv();
    const other = new HostRegistry(kv, ROOT);
    let slipped = false;
    // Host 4 lists the hosts; host 1 claims in full before host 4 writes.
    const racing = overriding(kv, {
      getPrefix: async (p) => {
        const r = await kv.getPrefix(p);
        if (!slipped) {
          slipped = true;
          await other.claim(h1, 90);
        }
        return r;
      },
    });
    expect(await new HostRegistry(racing, ROOT).claim(h4, 90)).toMatchObject({ claimed: false });
    expect(JSON.parse((await kv.get(KEY))!.value)).toEqual(h1);
  });

  it('says, as warnings, that other live hosts carry its node name', async () => {
    const kv = new MemoryKv();
    const reg = new HostRegistry(kv, ROOT);
    await reg.claim({ ...h4, PublicIP: '192.0.2.2', NodeName: 'clone' }, 90);
    const c = await reg.claim(h1, 90);
    expect(c.claimed && c.warnings).toEqual([
      'host 192.0.2.2 (host ID bbbbbbbb…) is also named clone; weft tells hosts apart by public address, ' +
        'but logs and inspect show both as one name (set --node-name)',
    ]);
  });

  it('replaces a value at its key that is not a host record', async () => {
    const kv = new MemoryKv();
    await kv.put(KEY, 'garbage');
    const c = await new HostRegistry(kv, ROOT).claim(h1, 90);
    expect(c).toMatchObject({ claimed: true, warnings: ['the host record of 192.0.2.1 in etcd was not a host record; replacing it'] });
    expect(JSON.parse((await kv.get(KEY))!.value)).toEqual(h1);
  });
});
