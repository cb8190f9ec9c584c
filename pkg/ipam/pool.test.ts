import { describe, expect, it } from 'vitest';
import { candidates, capacity, isAssignable, makePool } from './pool.ts';

describe('makePool()', () => {
  it('uses the first address as gateway and leaves out network and broadcast', () => {
    const p = makePool('10.98.0.0/29');
    expect([...candidates(p)]).toEqual(['10.98.0.2', '10.98.0.3', '10.98.0.4', '10.98.0.5', '10.98.0.6']);
    expect(capacity(p)).toBe(5n);
  });

  it('refuses subnets without room for a gateway and a container', () => {
    expect(() => makePool('10.0.0.0/31')).toThrow(/too small/);
    expect(() => makePool('fd00::/127')).toThrow(/too small/);
    expect(() => makePool('10.0.0.0/30')).not.toThrow();
  });
});

describe('candidates()', () => {
  it('starts after the last reserved address and wraps, as host-local does', () => {
    const p = makePool('10.98.0.0/29');
    expect([...candidates(p, '10.98.0.4')]).toEqual(['10.98.0.5', '10.98.0.6', '10.98.0.2', '10.98.0.3', '10.98.0.4']);
    expect([...candidates(p, '10.98.0.6')][0]).toBe('10.98.0.2');
  });

  it('ignores a last-reserved address outside the pool', () => {
    expect([...candidates(makePool('10.98.0.0/29'), '10.1.1.1')][0]).toBe('10.98.0.2');
    expect([...candidates(makePool('10.98.0.0/29'), 'fd00::1')][0]).toBe('10.98.0.2');
  });

  it('covers IPv6 pools without a broadcast exclusion', () => {
    expect([...candidates(makePool('fd00::/126'))]).toEqual(['fd00::2', 'fd00::3']);
  });
});

describe('isAssignable()', () => {
  it('refuses network, gateway, broadcast, outside and other-family addresses', () => {
    const p = makePool('10.244.1.0/24');
    expect(isAssignable(p, '10.244.1.7')).toBe(true);
    for (const bad of ['10.244.1.0', '10.244.1.1', '10.244.1.255', '10.244.2.7', 'fd00::1', 'x'])
      expect(isAssignable(p, bad), bad).toBe(false);
  });
});
