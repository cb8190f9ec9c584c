/**
 * The in-memory etcd the property tests run on (pkg/store/etcd/testing/memory-kv.ts) answers as Debian's
 * etcd 3.4 does, for what the stores rely on: range compares over a prefix (also over no key at all),
 * mod and create revisions, transactions, and the lease registry's create rule. The same script runs against
 * both, and the answers must be equal: a property proven on a model that etcd contradicts proves nothing.
 */
import { describe, expect, it } from 'vitest';
import type { KvClient } from '../../pkg/store/etcd/mod.ts';
import { MemoryKv } from '../../pkg/store/etcd/testing/memory-kv.ts';
import { SubnetRegistry } from '../../pkg/store/mod.ts';
import { testCluster } from '../helpers/cluster.ts';
import { RUN_ID } from '../helpers/run-id.ts';

async function script(kv: KvClient, root: string): Promise<unknown[]> {
  const p = `${root}/p/`;
  const out: unknown[] = [];
  const rev = async () => BigInt((await kv.getPrefix(`${root}/none/`)).revision);
  const base = await rev();
  const rel = (r: string) => String(BigInt(r) - base);
  out.push(await kv.txn([{ key: p, prefix: true, target: 'version', op: '==', value: 0 }], [])); // no key: holds
  out.push(await kv.txn([{ key: p, prefix: true, target: 'value', op: '==', value: '' }], [])); // value over no key: fails
  await kv.put(`${p}a`, 'A');
  out.push(await kv.txn([{ key: p, prefix: true, target: 'version', op: '==', value: 0 }], []));
  const r1 = await rev();
  out.push(await kv.txn([{ key: p, prefix: true, target: 'mod', op: '<', value: String(r1 + 1n) }], []));
  out.push(
    await kv.txn(
      [{ key: `${p}b`, target: 'version', op: '==', value: 0 }],
      [
        { put: `${p}b`, value: 'B' },
        { put: `${p}c`, value: 'C' },
      ],
    ),
  );
  out.push(await kv.txn([{ key: p, prefix: true, target: 'mod', op: '<', value: String(r1 + 1n) }], []));
  await kv.put(`${p}a`, 'A2');
  await kv.delete(`${p}b`);
  const r2 = await rev();
  out.push(await kv.txn([{ key: p, prefix: true, target: 'mod', op: '<', value: String(r2 + 1n) }], []));
  out.push(await kv.txn([{ key: p, prefix: true, target: 'create', op: '>', value: String(base) }], []));
  out.push(
    (await kv.getPrefix(p)).kvs.map((k) => [k.key.slice(root.length), k.value, rel(k.createRevision), rel(k.modRevision), k.version]),
  );
  // The lease registry's rule: a creation chosen from a listing fails once any subnet key changed after it.
  const reg = new SubnetRegistry(kv, `${root}/net`);
  await kv.put(reg.configKey, '{}');
  const listing = await reg.listSubnets();
  const first = await reg.createSubnet(`${reg.subnetsPrefix}/10.0.1.0-24`, 'x', 60, listing.revision);
  const second = await reg.createSubnet(`${reg.subnetsPrefix}/10.0.2.0-24`, 'y', 60, listing.revision);
  const fresh = await reg.createSubnet(`${reg.subnetsPrefix}/10.0.2.0-24`, 'y', 60, (await reg.listSubnets()).revision);
  out.push([first.created, second.created, second.created ? '' : second.why, fresh.created]);
  out.push(first.created && rel(first.revision));
  return out;
}

describe('the in-memory etcd model', () => {
  it('answers the stores’ script exactly as etcd 3.4 does', async () => {
    const c = await testCluster('mk', { config: null });
    const real = await script(c.etcd.client, `/weft-test/${RUN_ID}/mk`);
    const model = await script(new MemoryKv(), `/weft-test/${RUN_ID}/mk`);
    expect(model).toEqual(real);
    expect(real.slice(0, 3)).toEqual([true, false, false]);
    expect(real.at(-2)).toEqual([true, false, 'taken', true]);
  });
});
