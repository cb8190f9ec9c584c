import { describe, expect, it } from 'vitest';
import { fnv1a64, fnvHex } from './fnv.ts';

describe('fnv1a64()', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('fnvHex() gives a fixed number of hex digits', () => {
    expect(fnvHex('x', 8)).toMatch(/^[0-9a-f]{8}$/);
    expect(fnvHex('', 16)).toBe('cbf29ce484222325');
  });
});
