import { describe, expect, it } from 'vitest';
import type { RawKv } from '../lease/mod.ts';
import { keys, type Endpoint, type NetworkMeta } from '../networks/mod.ts';
import { MemoryKv } from '../store/etcd/testing/memory-kv.ts';
import { NetworkStore } from '../store/mod.ts';
import { toRaw } from '../store/prefix-feed.ts';
import { endpointRecord } from './local-endpoints.ts';
import { NetworkRecords } from './network-records.ts';

const ROOT = '/p/weft';

async function setup() {
  const kv = new MemoryKv();
  const store = new NetworkStore(kv, ROOT);
  const red = await store.create({ name: 'red', subnet: '10.10.0.0/16' });
  const warned: string[] = [];
  const records = new NetworkRecords(ROOT, (m) => warned.push(m));
  const snapshot = () => kv.dump(keys.networks(ROOT)).map(toRaw);
  const endpoint = (meta: NetworkMeta, name: string, address: string): Endpoint =>
    endpointRecord(
      meta,
      { name, aliases: [], containerID: `c-${name}`, ifname: 'eth0', address, mac: '02:00:00:00:00:01' },
      {
        nodeName: 'h1',
        publicIP: '192.0.2.1',
      },
    );
  /** An endpoint record written past the API, as etcd then holds it. */
  const forge = async (meta: NetworkMeta, e: Endpoint): Promise<RawKv> => {
    await kv.put(keys.endpoint(ROOT, meta.Id, e.Name), JSON.stringify(e));
    return toRaw((await kv.get(keys.endpoint(ROOT, meta.Id, e.Name)))!);
  };
  return { kv, store, red, warned, records, snapshot, endpoint, forge };
}

describe('NetworkRecords', () => {
  it('serves the networks and endpoints that pass, with the directory DNS answers from', async () => {
    const { store, red, records, snapshot, endpoint } = await setup();
    await store.registerEndpoint(red, endpoint(red, 'web', '10.10.1.5/24'));
    records.reset(snapshot());
    records.judge(undefined);
    expect([...records.metas.values()].map((m) => m.Name)).toEqual(['red']);
    expect(records.endpointsOf(red.Id).map((e) => e.Name)).toEqual(['web']);
    expect(records.directory()).toEqual([{ network: 'red', name: 'web', aliases: [], containerID: 'c-web', address: '10.10.1.5' }]);
  });

  it('refuses an endpoint record written past the API, saying so once until its reason changes or it goes', async () => {
    const { red, warned, records, snapshot, endpoint, forge } = await setup();
    const outside = await forge(red, endpoint(red, 'web', '10.99.1.5/24'));
    records.reset(snapshot());
    records.judge(undefined);
    records.judge(undefined);
    expect(records.endpointsOf(red.Id)).toEqual([]);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^refusing the endpoint record \/p\/weft\/networks\/.*\/endpoints\/web: /);
    // Another reason is said again.
    const other = await forge(red, { ...endpoint(red, 'web', '10.10.1.5/24'), NetworkID: 'someone-else' });
    records.change([{ type: 'put', kv: other }]);
    records.judge(undefined);
    expect(warned).toHaveLength(2);
    // Gone, then back with the first reason: said again.
    records.change([{ type: 'delete', key: outside.key, modRevision: '0' }]);
    records.judge(undefined);
    records.change([{ type: 'put', kv: outside }]);
    records.judge(undefined);
    expect(warned).toHaveLength(3);
  });

  it("refuses a network the default network's range overlaps, and serves none of its endpoints", async () => {
    const { store, red, warned, records, snapshot, endpoint } = await setup();
    await store.registerEndpoint(red, endpoint(red, 'web', '10.10.1.5/24'));
    records.reset(snapshot());
    records.judge({ subnet: '10.0.0.0/8', subnet6: undefined, vni: 1 });
    expect(records.metas.size).toBe(0);
    expect(records.endpointsOf(red.Id)).toEqual([]);
    expect(records.directory()).toEqual([]);
    expect(warned).toEqual([expect.stringMatching(/^refusing the network record .*\/meta: /)]);
    records.judge(undefined);
    expect(records.metas.size).toBe(1);
  });

  it('forgets a network whose meta was deleted, and one the next snapshot does not hold', async () => {
    const { store, red, records, snapshot } = await setup();
    const blue = await store.create({ name: 'blue', subnet: '10.20.0.0/16' });
    records.reset(snapshot());
    records.judge(undefined);
    expect(records.metas.size).toBe(2);
    records.change([{ type: 'delete', key: keys.meta(ROOT, red.Id), modRevision: '0' }]);
    records.judge(undefined);
    expect([...records.metas.keys()]).toEqual([blue.Id]);
    await store.remove('blue');
    records.reset(snapshot());
    records.judge(undefined);
    expect(records.metas.size).toBe(1);
  });
});
