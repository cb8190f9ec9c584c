import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocate } from './allocate.ts';
import { makePool } from './pool.ts';
import { AddressStore, ownerOf } from './store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store(): AddressStore {
  const d = mkdtempSync(join(tmpdir(), 'weft-ipam-'));
  dirs.push(d);
  return new AddressStore(d);
}

describe('allocate()', () => {
  it('hands out addresses round-robin and does not reuse a released one at once (host-local order)', () => {
    const s = store();
    const p = makePool('10.98.0.0/29');
    const got = ['c1', 'c2', 'c3'].map((c) => allocate(p, s, ownerOf(c, 'eth0')));
    expect(got).toEqual(['10.98.0.2', '10.98.0.3', '10.98.0.4']);
    expect(s.release('10.98.0.3', ownerOf('c2', 'eth0'))).toBe(true);
    expect(['c4', 'c5', 'c6'].map((c) => allocate(p, s, ownerOf(c, 'eth0')))).toEqual(['10.98.0.5', '10.98.0.6', '10.98.0.3']);
    expect(() => allocate(p, s, ownerOf('c7', 'eth0'))).toThrow(
      expect.objectContaining({ code: 'WEFT_ADDRESS_EXHAUSTED', message: 'no free address left in 10.98.0.0/29 (all 5 are in use)' }),
    );
  });

  it('writes host-local\'s file layout: one file per address holding "<id>\\r\\n<ifname>"', () => {
    const s = store();
    allocate(makePool('10.98.0.0/29'), s, ownerOf('ctr1', 'eth0'));
    expect(readFileSync(join(s.dir, '10.98.0.2'), 'utf8')).toBe('ctr1\r\neth0');
    expect(readFileSync(join(s.dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.98.0.2');
  });

  it('honours a requested address, and refuses one that is taken or not assignable', () => {
    const s = store();
    const p = makePool('10.244.1.0/24');
    expect(allocate(p, s, ownerOf('a', 'eth0'), '10.244.1.77')).toBe('10.244.1.77');
    expect(() => allocate(p, s, ownerOf('b', 'eth0'), '10.244.1.77')).toThrow(
      expect.objectContaining({ code: 'WEFT_ADDRESS_UNAVAILABLE', message: 'requested address 10.244.1.77 is already in use (by a eth0)' }),
    );
    expect(() => allocate(p, s, ownerOf('b', 'eth0'), '10.244.1.1')).toThrow(/gateway/);
    expect(() => allocate(p, s, ownerOf('b', 'eth0'), '10.9.9.9')).toThrow(/not assignable/);
  });

  it("release() only removes an address its owner holds; heldBy() finds an owner's addresses", () => {
    const s = store();
    const p = makePool('10.98.0.0/29');
    allocate(p, s, ownerOf('a', 'eth0'));
    allocate(p, s, ownerOf('a', 'net1'));
    expect(s.release('10.98.0.2', ownerOf('b', 'eth0'))).toBe(false);
    expect(s.heldBy(ownerOf('a', 'net1'))).toEqual(['10.98.0.3']);
    expect([...s.reservations().keys()].sort()).toEqual(['10.98.0.2', '10.98.0.3']);
  });
});
