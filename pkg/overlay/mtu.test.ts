import { describe, expect, it } from 'vitest';
import { vtepMtu } from './mtu.ts';

describe('vtepMtu()', () => {
  it("leaves room for VXLAN's headers over either underlay family", () => {
    expect(vtepMtu(1500, 4)).toBe(1450);
    expect(vtepMtu(1500, 6)).toBe(1430);
    expect(vtepMtu(9000, 6)).toBe(8930);
  });
});
