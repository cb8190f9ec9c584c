/**
 * This host's identity kept alive (issue 24): the host ID file, the first claim and its refusal, renewals on a
 * fake clock over the in-memory etcd model, a lapsed record claimed again, the revoke on stop, and the gate
 * that holds a lease source's acquire until the claim is made.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/mod.ts';
import type { HostRecord } from '../hosts/mod.ts';
import type { LeaseSource } from '../lease/mod.ts';
import { FakeClock } from '../lease/testing/fake-clock.ts';
import { createLogger } from '../log/logger.ts';
import type { KvClient } from '../store/etcd/mod.ts';
import { MemoryKv } from '../store/etcd/testing/memory-kv.ts';
import { HostRegistry } from '../store/mod.ts';
import { gateLeaseSource, HOST_RECORD_RENEW_MS, HostIdentity, loadHostId } from './host-identity.ts';

const ROOT = '/p/weft';
const KEY = `${ROOT}/hosts/192.0.2.1`;
const me: HostRecord = { HostID: 'a'.repeat(32), NodeName: 'h1', PublicIP: '192.0.2.1', Started: 't' };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(o: { client?: (kv: MemoryKv) => KvClient } = {}) {
  const clock = new FakeClock();
  const kv = new MemoryKv(() => clock.now());
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const identity = (r: HostRecord) =>
    new HostIdentity(r, { registry: new HostRegistry(o.client?.(kv) ?? kv, ROOT), log, clock, jitter: () => 0 });
  return { clock, kv, lines, identity };
}

describe('loadHostId()', () => {
  it('makes a random ID once, readable by root only, and returns it on every later start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-hostid-'));
    dirs.push(dir);
    const id = loadHostId(join(dir, 'state'));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(join(dir, 'state', 'host-id')).mode & 0o777).toBe(0o600);
    expect(loadHostId(join(dir, 'state'))).toBe(id);
    expect(readFileSync(join(dir, 'state', 'host-id'), 'utf8')).toBe(`${id}\n`);
  });

  it('refuses a file that does not hold an ID, naming it, rather than becoming another host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-hostid-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'host-id'), 'not an id\n');
    expect(() => loadHostId(dir)).toThrow(`${join(dir, 'host-id')} does not hold a host ID (32 hex digits); delete it`);
  });
});

describe('HostIdentity', () => {
  it('claims the address, keeps the record alive past its TTL, and revokes it on stop', async () => {
    const { clock, kv, identity } = setup();
    const h1 = identity(me);
    await h1.start();
    for (let i = 0; i < 10; i++) await clock.advance(HOST_RECORD_RENEW_MS);
    expect(JSON.parse((await kv.get(KEY))!.value)).toEqual(me);
    await h1.stop();
    expect(await kv.get(KEY)).toBeUndefined();
  });

  it('a renewal reads its own record only: reading every host every 30 s would cost etcd O(hosts²) (issue 28)', async () => {
    let prefixReads = 0;
    const { clock, identity } = setup({
      client: (kv) =>
        new Proxy(kv, {
          get: (t, p) => {
            if (p === 'getPrefix') prefixReads++;
            const v = Reflect.get(t, p) as unknown;
            return typeof v === 'function' ? v.bind(t) : v;
          },
        }),
    });
    await identity(me).start();
    const atClaim = prefixReads;
    for (let i = 0; i < 10; i++) await clock.advance(HOST_RECORD_RENEW_MS);
    expect(atClaim).toBeGreaterThan(0);
    expect(prefixReads).toBe(atClaim);
  });

  it('refuses to start, in one line, at an address another live host holds', async () => {
    const { identity } = setup();
    await identity(me).start();
    const e = await identity({ ...me, HostID: 'b'.repeat(32), NodeName: 'h4' })
      .start()
      .catch((x: unknown) => x);
    expect(isWeftError(e) && e.code).toBe('WEFT_HOST_CONFLICT');
    expect((e as Error).message).toBe(
      'another host (node h1, host ID aaaaaaaa…) already runs weft with public address 192.0.2.1; ' +
        'give this host its own --public-ip or --iface',
    );
  });

  it('claims its record again when it was deleted behind its back', async () => {
    const { clock, kv, lines, identity } = setup();
    await identity(me).start();
    await kv.delete(KEY);
    await clock.advance(HOST_RECORD_RENEW_MS);
    expect(JSON.parse((await kv.get(KEY))!.value)).toEqual(me);
    expect(lines.join('\n')).toContain("this host's record in etcd had lapsed or was removed; registered it again");
  });

  it('holds a lease source until the claim is made: while etcd fails, acquire waits; reads go ahead', async () => {
    let down = true;
    const { clock, lines, identity } = setup({
      client: (kv) =>
        ({
          ...Object.fromEntries(
            (
              ['get', 'put', 'delete', 'deletePrefix', 'txn', 'leaseGrant', 'leaseKeepAlive', 'leaseTimeToLive', 'leaseRevoke'] as const
            ).map((m) => [m, (...a: unknown[]) => (kv[m] as (...x: unknown[]) => unknown)(...a)]),
          ),
          getPrefix: (p: string) => (down ? Promise.reject(new Error('etcd at http://192.0.2.250:2379 is unreachable')) : kv.getPrefix(p)),
          watchPrefix: (p, r, h) => kv.watchPrefix(p, r, h),
        }) as KvClient,
    });
    const h1 = identity(me);
    void h1.start();
    const calls: string[] = [];
    const source = {
      readConfig: async () => {
        calls.push('readConfig');
        return '{}';
      },
      acquire: async () => {
        calls.push('acquire');
        return { subnet: '10.244.1.0/24' };
      },
    } as unknown as LeaseSource;
    const gated = gateLeaseSource(source, h1);
    await gated.readConfig();
    const acquired = gated.acquire({} as never, new AbortController().signal);
    await clock.advance(10_000);
    expect(calls).toEqual(['readConfig']);
    expect(lines.filter((l) => l.includes('cannot register this host in etcd yet'))).toHaveLength(1);
    down = false;
    await clock.advance(2000);
    await acquired;
    expect(calls).toEqual(['readConfig', 'acquire']);
  });
});
