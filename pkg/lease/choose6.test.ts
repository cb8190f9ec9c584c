import { describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { fitsConfig } from './choose.ts';
import { chooseIPv6Part } from './choose6.ts';
import { decodeLease, type SubnetLease } from './lease.ts';

// flannel's defaults for IPv6Network fc00::/48: /64 subnets, from the second to the last.
const config: FamilyConfig = { network: 'fc00::/48', subnetLen: 64, subnetMin: 'fc00:0:0:1::', subnetMax: 'fc00:0:0:ffff::' };
const P = '/coreos.com/network/subnets';

function lease(key: string, publicIP = '192.0.2.1'): SubnetLease {
  const d = decodeLease(P, {
    key: `${P}/${key}`,
    value: encodeLeaseAttrs({ publicIP, vxlan: { vni: 1, vtepMac: '02:00:00:00:00:01' } }),
    leaseId: '7',
    modRevision: '1',
  });
  if (!d.ok) throw new Error(d.reason);
  return d.lease;
}

describe('chooseIPv6Part()', () => {
  it('knows which IPv6 subnets the config hands out', () => {
    expect(fitsConfig(config, 'fc00:0:0:3::/64')).toBe(true);
    expect(fitsConfig(config, 'fc00:0:0:0::/64')).toBe(false);
    expect(fitsConfig(config, 'fc00:0:0:3::/60')).toBe(false);
  });

  it("takes the subnet file's previous IPv6 subnet when no lease holds it, never when one does", () => {
    const other = lease('10.244.4.0-24&fc00:0:0:9::-64', '192.0.2.2');
    expect(chooseIPv6Part({ config, leases: [other], previous: 'fc00:0:0:7::/64' })).toEqual({
      kind: 'create',
      subnet: 'fc00:0:0:7::/64',
      why: 'previous',
    });
    const r = chooseIPv6Part({ config, leases: [other], previous: 'fc00:0:0:9::/64', random: () => 0 });
    expect(r).toEqual({ kind: 'create', subnet: 'fc00:0:0:1::/64', why: 'random' });
  });

  it('picks among free aligned subnets, skipping held and excluded ones, and says when none is left', () => {
    const held = [lease('10.244.1.0-24&fc00:0:0:1::-64'), lease('10.244.2.0-24&fc00:0:0:2::-64')];
    const r = chooseIPv6Part({ config, leases: held, exclude: new Set(['fc00:0:0:3::/64']), random: () => 0 });
    expect(r).toEqual({ kind: 'create', subnet: 'fc00:0:0:4::/64', why: 'random' });
    const tiny: FamilyConfig = { ...config, subnetMax: 'fc00:0:0:2::' };
    expect(chooseIPv6Part({ config: tiny, leases: held })).toEqual({ kind: 'exhausted' });
  });
});
