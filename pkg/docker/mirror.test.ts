import { describe, expect, it } from 'vitest';
import type { NetworkMeta } from '../networks/mod.ts';
import { planMirror } from './mirror.ts';

const meta = (Name: string, Subnet: string, VNI = 256): NetworkMeta => ({
  Name,
  Id: `id-${Name}`,
  Created: '2026-11-30T00:00:00Z',
  Driver: 'overlay',
  Scope: 'global',
  Subnet,
  Gateway: undefined,
  VNI,
  MTU: undefined,
  HostSubnetLen: 26,
});
const dockerNet = (Name: string, Driver: string, Subnet?: string) => ({
  Id: `d-${Name}`,
  Name,
  Driver,
  IPAM: { Driver, Config: Subnet ? [{ Subnet }] : [] },
});

describe('planMirror()', () => {
  it("creates what Docker lacks, removes weft's leftovers, leaves other drivers' networks alone", () => {
    const plan = planMirror(
      [meta('RED', '10.10.10.0/24', 300), meta('BLUE', '10.10.20.0/24')],
      [dockerNet('BLUE', 'weft', '10.10.20.0/24'), dockerNet('GONE', 'weft', '10.10.40.0/24'), dockerNet('bridge', 'bridge')],
      new Set(),
    );
    expect(plan).toEqual([
      { kind: 'create', name: 'RED', subnet: '10.10.10.0/24', options: { vni: '300' } },
      { kind: 'remove', id: 'd-GONE', name: 'GONE' },
    ]);
  });

  it('never removes a network being adopted, and reports a name or range clash instead of touching it', () => {
    expect(planMirror([], [dockerNet('NEW', 'weft', '10.0.0.0/24')], new Set(['d-NEW']))).toEqual([]);
    expect(planMirror([meta('RED', '10.10.10.0/24')], [dockerNet('RED', 'bridge', '172.18.0.0/16')], new Set())).toEqual([
      { kind: 'clash', name: 'RED', reason: 'a Docker network of driver bridge has the name; rename or remove it' },
    ]);
    expect(planMirror([meta('RED', '10.10.10.0/24')], [dockerNet('RED', 'weft', '10.99.0.0/24')], new Set())[0]).toMatchObject({
      kind: 'clash',
    });
  });
});
