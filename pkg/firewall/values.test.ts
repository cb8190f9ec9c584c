/**
 * Only canonical ranges and plain names reach an nft script (issue 25): the builders throw on anything else,
 * so a network named `x" ; } ; } ; table ip weftpwn { ...` can never end a comment, a chain or a table.
 */
import { describe, expect, it } from 'vitest';
import { isolationTable } from './isolation.ts';
import { cniMasqChain, flannelMasqTable } from './masquerade.ts';
import { nftCidr, nftCommentText } from './values.ts';

const INJECT = 'x" ; } ; } ; table ip weftpwn { chain c { counter comment "y';

describe('nft values', () => {
  it('pass canonical ranges and plain names, and nothing else', () => {
    expect(nftCidr('10.10.10.0/24')).toBe('10.10.10.0/24');
    expect(nftCidr('fd00:70::/64')).toBe('fd00:70::/64');
    for (const bad of ['10.10.10.0/24 } ; table ip x {', '10.10.10.0', 'FD00:70::/64', '010.10.10.0/24', '10.10.10.0/24\n'])
      expect(() => nftCidr(bad)).toThrow(expect.objectContaining({ code: 'WEFT_INVALID_ARGUMENT' }));
    expect(nftCommentText('RED: no traffic')).toBe('RED: no traffic');
    for (const bad of [INJECT, 'a\\b', 'a\nb', 'x'.repeat(65)]) expect(() => nftCommentText(bad)).toThrow(/cannot be an nft comment/);
  });

  it('are what the isolation and masquerade builders take', () => {
    const red = { name: 'RED', subnet: '10.10.10.0/24' };
    expect(() => isolationTable([red, { name: INJECT, subnet: '10.31.0.0/24' }])).toThrow(/cannot be an nft comment/);
    expect(() => isolationTable([red, { name: 'BLUE', subnet: '10.31.0.0/24 } ; table ip x {' }])).toThrow(/canonical form/);
    expect(isolationTable([red, { name: 'BLUE', subnet: '10.10.20.0/24' }])?.body).toContain(
      '  ip saddr 10.10.10.0/24 ip daddr { 10.10.20.0/24 } drop comment "RED: no traffic to other networks"',
    );
    const spec = { key: 'RED', subnets: ['10.10.10.32/27'], clusterNetworks: { 4: ['10.10.10.0/24 accept'], 6: [] } };
    expect(() => flannelMasqTable(spec, { masquerade: true, forward: true })).toThrow(/canonical form/);
    expect(() => cniMasqChain(spec)).toThrow(/canonical form/);
    expect(() => cniMasqChain({ ...spec, subnets: ['x'], clusterNetworks: { 4: ['10.10.10.0/24'], 6: [] } })).toThrow(/canonical form/);
  });
});
