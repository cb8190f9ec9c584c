import { describe, expect, it } from 'vitest';
import { assertIfName, ifNameProblem } from './ifname.ts';

describe('ifNameProblem()', () => {
  it('accepts 1-15 byte names, including flannel.1 and veth names', () => {
    for (const ok of ['eth0', 'flannel.1', 'veth0123abcd', 'a', 'x'.repeat(15)]) expect(ifNameProblem(ok), ok).toBeUndefined();
  });

  it('names the limit for a name over 15 bytes, counting bytes not characters', () => {
    expect(ifNameProblem('averyveryverylongname')).toBe('interface name "averyveryverylongname" is 21 bytes; Linux allows at most 15');
    expect(ifNameProblem('ééééééééé')).toMatch(/18 bytes/);
  });

  it('refuses empty, dot names, slashes, colons and whitespace', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb']) expect(ifNameProblem(bad), bad).toBeDefined();
  });

  it('assertIfName() throws a typed WEFT_INVALID_ARGUMENT error', () => {
    expect(() => assertIfName('a/b')).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_ARGUMENT' }));
  });
});
