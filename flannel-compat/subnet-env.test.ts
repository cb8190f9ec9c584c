import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSubnetEnv, parseSubnetEnv, type SubnetEnv } from './subnet-env.ts';

const golden = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url), 'utf8');
const must = (text: string): SubnetEnv => {
  const r = parseSubnetEnv(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

describe('parseSubnetEnv()', () => {
  it("reads flanneld's file: the subnet is the network of FLANNEL_SUBNET's gateway form", () => {
    expect(must(golden('subnet.env'))).toEqual({
      networks: ['10.244.0.0/16'],
      subnet: '10.244.1.0/24',
      ipv6Networks: [],
      ipv6Subnet: undefined,
      mtu: 1450,
      ipMasq: true,
      extra: {},
    });
  });

  it("reads the dual-stack form and tolerates comma lists, CRLF and weft's extra keys", () => {
    expect(must(golden('subnet-dualstack.env'))).toMatchObject({
      ipv6Networks: ['fc00::/48'],
      ipv6Subnet: 'fc00:0:0:1::/64',
      ipMasq: false,
    });
    const e = must(
      'FLANNEL_NETWORK=10.244.0.0/16,10.245.0.0/16\r\nFLANNEL_SUBNET=10.244.1.1/24\r\nFLANNEL_MTU=1450\r\n' +
        'FLANNEL_IPMASQ=True\r\nWEFT_VXLAN_DEVICE=flannel.1\r\n',
    );
    expect(e).toMatchObject({ networks: ['10.244.0.0/16', '10.245.0.0/16'], ipMasq: false, extra: { WEFT_VXLAN_DEVICE: 'flannel.1' } });
  });

  it('lists every missing key at once', () => {
    expect(parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\n')).toEqual({
      ok: false,
      reason: 'missing FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ',
    });
    expect(parseSubnetEnv('')).toEqual({ ok: false, reason: 'missing FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ' });
  });

  it('names a bad value', () => {
    const r = parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.300/24\nFLANNEL_MTU=big\nFLANNEL_IPMASQ=true\n');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('FLANNEL_SUBNET: "10.244.1.300/24" has an invalid address');
      expect(r.reason).toContain('FLANNEL_MTU: "big" is not an MTU');
    }
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(() => parseSubnetEnv(s)).not.toThrow();
      }),
    );
  });
});

describe('formatSubnetEnv()', () => {
  it('writes the golden files byte for byte', () => {
    for (const f of ['subnet.env', 'subnet-dualstack.env']) expect(formatSubnetEnv(must(golden(f)))).toBe(golden(f));
  });

  it("appends weft's keys after flannel's", () => {
    const text = formatSubnetEnv({ ...must(golden('subnet.env')), extra: { WEFT_VXLAN_DEVICE: 'flannel.1' } });
    expect(text.endsWith('FLANNEL_IPMASQ=true\nWEFT_VXLAN_DEVICE=flannel.1\n')).toBe(true);
  });
});
