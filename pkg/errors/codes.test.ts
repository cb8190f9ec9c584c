import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from './codes.ts';
import { isWeftError, WeftError } from './weft-error.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map([...doc.matchAll(/^\| `(WEFT_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])]));

describe('error code registry', () => {
  it('documents every code in docs/errors.md with the CNI code it is reported as', () => {
    for (const [code, { cni }] of Object.entries(CODES)) expect(documented.get(code), code).toBe(cni);
  });

  it('documents nothing that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(CODES)).toContain(code);
  });

  it("keeps the spec meaning of CNI codes 1-11 and 50-51 and puts weft's own at 100+", () => {
    for (const { cni } of Object.values(CODES))
      expect([1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51, 999].includes(cni) || (cni >= 100 && cni < 999)).toBe(true);
  });
});

describe('WeftError', () => {
  it('is recognised by its brand, carries its CNI code and keeps the cause', () => {
    const cause = new Error('underlying');
    const e = new WeftError('WEFT_INVALID_CONFIG', 'subnet 10.5.3.7/16 has host bits set', { details: 'field ipam.subnet', cause });
    expect(isWeftError(e)).toBe(true);
    expect(e.cniCode).toBe(7);
    expect(e.cause).toBe(cause);
    expect(isWeftError(new Error('plain'))).toBe(false);
    // A copy from another bundle has the same global brand.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('weft.error'), { value: true });
    expect(isWeftError(foreign)).toBe(true);
  });
});
