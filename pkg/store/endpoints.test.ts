/**
 * Endpoint records written atomically (issue 24), on the in-memory etcd model: each test lets another writer
 * in between a store's read and its write, at the one moment the code before was exposed (it read, then wrote
 * unconditionally), and checks that the other writer's record survives.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint, NetworkMeta } from '../networks/mod.ts';
import type { KvClient } from './etcd/mod.ts';
import { MemoryKv, overriding } from './etcd/testing/memory-kv.ts';
import { NetworkStore } from './networks.ts';

const ROOT = '/p/weft';

/** `kv`, where `meanwhile` runs once, right after the first `method` call matching `when` took effect. */
function slipIn(kv: MemoryKv, method: 'get' | 'getPrefix', when: (key: string) => boolean, meanwhile: () => Promise<unknown>): KvClient {
  let pending: (() => Promise<unknown>) | undefined = meanwhile;
  const after = async <R>(key: string, r: R): Promise<R> => {
    const m = pending;
    if (m && when(key)) {
      pending = undefined;
      await m();
    }
    return r;
  };
  return overriding(kv, {
    get: async (k) => {
      const r = await kv.get(k);
      return method === 'get' ? after(k, r) : r;
    },
    getPrefix: async (p) => {
      const r = await kv.getPrefix(p);
      return method === 'getPrefix' ? after(p, r) : r;
    },
  });
}

async function network(): Promise<{ kv: MemoryKv; other: NetworkStore; meta: NetworkMeta }> {
  const kv = new MemoryKv();
  const other = new NetworkStore(kv, ROOT);
  return { kv, other, meta: await other.create({ name: 'RED', subnet: '10.10.10.0/24' }) };
}

const ep = (meta: NetworkMeta, containerID: string, hostIP = '192.0.2.1'): Endpoint => ({
  Name: 'web',
  EndpointID: containerID.toLowerCase().repeat(64),
  NetworkID: meta.Id,
  Network: meta.Name,
  Host: 'clone',
  HostIP: hostIP,
  ContainerID: containerID,
  Interface: 'eth0',
  IPv4Address: '10.10.10.34/24',
  IPv6Address: '',
  MacAddress: '',
  Aliases: [],
  Created: '',
});

const holder = async (kv: MemoryKv, meta: NetworkMeta) =>
  (JSON.parse((await kv.get(`${ROOT}/networks/${meta.Id}/endpoints/web`))?.value ?? '{}') as { ContainerID?: string }).ContainerID;

describe('endpoint records under concurrent writers', () => {
  it("unregisterEndpoint() keeps a record that another container's took the place of between its read and its delete", async () => {
    const { kv, other, meta } = await network();
    await other.registerEndpoint(meta, ep(meta, 'A'));
    const store = new NetworkStore(
      slipIn(
        kv,
        'get',
        () => true,
        async () => {
          await other.unregisterEndpoint(meta, 'web', 'A');
          await other.registerEndpoint(meta, ep(meta, 'B'));
        },
      ),
      ROOT,
    );
    expect(await store.unregisterEndpoint(meta, 'web', 'A')).toBe(false);
    expect(await holder(kv, meta)).toBe('B');
  });

  it('registerEndpoint() replaces its own record for a retried ADD, never one that changed hands after its read', async () => {
    const { kv, other, meta } = await network();
    await other.registerEndpoint(meta, ep(meta, 'A'));
    await other.registerEndpoint(meta, { ...ep(meta, 'A'), IPv4Address: '10.10.10.35/24' });
    expect((await other.endpoints(meta)).map((e) => e.IPv4Address)).toEqual(['10.10.10.35/24']);

    const store = new NetworkStore(
      slipIn(
        kv,
        'get',
        () => true,
        async () => {
          await other.unregisterEndpoint(meta, 'web', 'A');
          await other.registerEndpoint(meta, ep(meta, 'B'));
        },
      ),
      ROOT,
    );
    await expect(store.registerEndpoint(meta, ep(meta, 'A'))).rejects.toMatchObject({
      code: 'WEFT_ALREADY_EXISTS',
      message: 'service endpoint with name web already exists',
    });
    expect(await holder(kv, meta)).toBe('B');
  });

  it('remove() refuses, after reading again, when an endpoint is registered between its check and its removal', async () => {
    const { kv, other, meta } = await network();
    const store = new NetworkStore(
      slipIn(
        kv,
        'getPrefix',
        (p) => p.endsWith('/endpoints/'),
        () => other.registerEndpoint(meta, ep(meta, 'A')),
      ),
      ROOT,
    );
    await expect(store.remove('RED')).rejects.toMatchObject({
      code: 'WEFT_ALREADY_EXISTS',
      message: 'network RED has active endpoints',
      details: 'web on clone (192.0.2.1)',
    });
    expect((await other.list()).map((m) => m.Name)).toEqual(['RED']);
    expect(await holder(kv, meta)).toBe('A');
  });

  it('remove() is not blocked by an undecodable value under the endpoints: it goes with the network', async () => {
    const { kv, other, meta } = await network();
    await kv.put(`${ROOT}/networks/${meta.Id}/endpoints/junk`, '{"Name":');
    await other.remove('RED');
    expect(kv.dump(`${ROOT}/`)).toEqual(expect.not.arrayContaining([expect.objectContaining({ key: expect.stringContaining(meta.Id) })]));
    expect(await other.list()).toEqual([]);
  });

  it("unregisterEndpoint() with a host's address removes only that host's record (a host removes what it owns)", async () => {
    const { kv, other, meta } = await network();
    await other.registerEndpoint(meta, ep(meta, 'A', '192.0.2.2'));
    expect(await other.unregisterEndpoint(meta, 'web', 'A', { hostIP: '192.0.2.1' })).toBe(false);
    expect(await holder(kv, meta)).toBe('A');
    expect(await other.unregisterEndpoint(meta, 'web', 'A', { hostIP: '192.0.2.2' })).toBe(true);
    expect(await holder(kv, meta)).toBeUndefined();
  });
});
