import { describe, expect, it } from 'vitest';
import { hasNetAdmin, requireNetAdmin } from './capabilities.ts';

describe('requireNetAdmin()', () => {
  it('reads CAP_NET_ADMIN (bit 12) from the effective set', () => {
    expect(hasNetAdmin('Name:\tweft\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasNetAdmin('CapEff:\t0000000000001000\n')).toBe(true);
    expect(hasNetAdmin('CapEff:\t0000000000000fff\n')).toBe(false);
    expect(hasNetAdmin('no caps here')).toBe(false);
  });

  it('refuses with what to do instead of failing later with a bare EPERM (issue 11)', () => {
    expect(() => requireNetAdmin('CapEff:\t0000000000000000\n')).toThrow(/needs CAP_NET_ADMIN .*run it as root, or grant the capability/);
  });
});
