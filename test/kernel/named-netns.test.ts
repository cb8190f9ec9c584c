import { describe, expect, it } from 'vitest';
import { createNamedNetns, deleteNamedNetns, listNamedNetns } from '../../pkg/kernel/mod.ts';
import { destroyByPrefix } from '../../pkg/sim/mod.ts';
import { defer } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';
import { ipJson, run, tryRun } from '../helpers/sh.ts';

describe('createNamedNetns()', () => {
  it('makes a namespace that iproute2 sees by name, and deleteNamedNetns() removes it idempotently', () => {
    const name = `${NETNS_PREFIX}named`;
    const ns = createNamedNetns(name);
    defer(() => {
      ns.close();
      deleteNamedNetns(name);
    });
    expect(run('ip', ['netns', 'list'])).toContain(name);
    expect(listNamedNetns()).toContain(name);
    expect(ipJson<Array<{ ifname: string }>>(name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(() => createNamedNetns(name)).toThrow(expect.objectContaining({ code: 'WEFT_ALREADY_EXISTS' }));
    ns.close();
    deleteNamedNetns(name);
    deleteNamedNetns(name);
    expect(tryRun('ip', ['-n', name, 'link', 'show']).ok).toBe(false);
  });

  it('refuses names that are not a single path component', () => {
    for (const bad of ['', '.', '..', 'a/b'])
      expect(() => createNamedNetns(bad)).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_ARGUMENT' }));
  });

  it('destroyByPrefix() removes every namespace with the prefix and nothing else', () => {
    const p = `${NETNS_PREFIX}dbp-`;
    for (const n of ['a', 'b']) createNamedNetns(`${p}${n}`).close();
    const other = createNamedNetns(`${NETNS_PREFIX}keep`);
    defer(() => {
      other.close();
      deleteNamedNetns(`${NETNS_PREFIX}keep`);
      destroyByPrefix(p);
    });
    expect(destroyByPrefix(p).sort()).toEqual([`${p}a`, `${p}b`]);
    expect(listNamedNetns()).toContain(`${NETNS_PREFIX}keep`);
    expect(listNamedNetns().filter((n) => n.startsWith(p))).toEqual([]);
  });
});
