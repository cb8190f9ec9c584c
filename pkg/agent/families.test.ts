import { describe, expect, it } from 'vitest';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { parseNetworkConfig, parseVxlanBackend } from '../../flannel-compat/network-config.ts';
import { parseSubnetEnv } from '../../flannel-compat/subnet-env.ts';
import { decodeLease } from '../lease/mod.ts';
import { familiesOf, masqSpecOf, subnetFileText, type Families } from './families.ts';
import { peerPlans } from './peers.ts';

const iface = { name: 'eth0', vtepLocal6: '2001:db8::1', publicIP: '192.0.2.1', publicIPv6: '2001:db8::1', prefixes: ['192.0.2.0/24'] };

function families(config: object, network: string, i: { name: string; vtepLocal6?: string } = iface) {
  const cfg = parseNetworkConfig(JSON.stringify({ Backend: { Type: 'vxlan' }, ...config }));
  if (!cfg.ok) throw new Error(cfg.reason);
  const vx = parseVxlanBackend(cfg.value);
  if (!vx.ok) throw new Error(vx.reason);
  return familiesOf(cfg.value, vx.value, network, i);
}
const ok = (r: ReturnType<typeof families>): Families => {
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

const P = '/p/subnets';
const lease = (key: string, publicIP: string, publicIPv6?: string) => {
  const d = decodeLease(P, {
    key: `${P}/${key}`,
    value: encodeLeaseAttrs({
      publicIP,
      vxlan: { vni: 1, vtepMac: '02:00:00:00:00:02' },
      ...(publicIPv6 && { publicIPv6, vxlanV6: { vni: 1, vtepMac: '02:00:00:00:06:02' } }),
    }),
    leaseId: '7',
    modRevision: '1',
  });
  if (!d.ok) throw new Error(d.reason);
  return d.lease;
};

const DUAL = { Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fc00::/48' };

describe('familiesOf()', () => {
  it("carries a default network's IPv6 half on its own device, a named network's inside the VTEP", () => {
    expect(ok(families(DUAL, ''))).toMatchObject({ keyFamily: 4, six: 'device', configs: { 6: { network: 'fc00::/48' } } });
    expect(ok(families(DUAL, 'DS'))).toMatchObject({ keyFamily: 4, six: 'inner' });
    const v4 = ok(families({ Network: '10.244.0.0/16' }, ''));
    expect(v4).toMatchObject({ keyFamily: 4, six: undefined });
    expect(v4.configs[6]).toBeUndefined();
  });

  it("takes an IPv6-only named network's IPv6 range as its key family; refuses one as the default network", () => {
    const v6only = { EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fd00:72::/56' };
    const six = ok(families(v6only, 'SIX'));
    expect(six).toMatchObject({ keyFamily: 6, configs: { 6: { network: 'fd00:72::/56', subnetLen: 64 } }, six: undefined });
    expect(six.configs[4]).toBeUndefined();
    expect(families(v6only, '')).toMatchObject({ ok: false, reason: expect.stringContaining('IPv6-only named network') });
  });

  it('refuses a dual-stack default network on an underlay without IPv6, naming the interface', () => {
    expect(families(DUAL, '', { name: 'eth1' })).toMatchObject({ ok: false, reason: expect.stringContaining('eth1 has no global IPv6') });
    expect(families(DUAL, 'DS', { name: 'eth1' }).ok).toBe(true);
  });
});

describe('the subnet file and masquerade of each kind', () => {
  const held = { key: 'k', subnet: '10.244.3.0/24', subnet6: 'fc00:0:0:3::/64', leaseId: '7', modRevision: '1', expiresAt: 0 };
  it("writes flanneld's dual-stack file, and an IPv6-only network's with the IPv6 keys alone", () => {
    const text = subnetFileText(ok(families(DUAL, '')), held, { mtu: 1430, ipMasq: true, device: 'flannel.1', device6: 'flannel-v6.1' });
    expect(text).toBe(
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_IPV6_NETWORK=fc00::/48\n' +
        'FLANNEL_IPV6_SUBNET=fc00:0:0:3::1/64\nFLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n' +
        'WEFT_VXLAN_DEVICE=flannel.1\nWEFT_VXLAN_DEVICE_V6=flannel-v6.1\n',
    );
    const six = ok(families({ EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fd00:72::/56' }, 'SIX'));
    const only = subnetFileText(
      six,
      { ...held, subnet: 'fd00:72:0:5::/64', subnet6: undefined },
      {
        mtu: 1450,
        ipMasq: false,
        device: 'weft.300',
        device6: undefined,
      },
    );
    expect(parseSubnetEnv(only)).toMatchObject({ ok: true, value: { networks: [], subnet: undefined, ipv6Subnet: 'fd00:72:0:5::/64' } });
    expect(masqSpecOf('SIX', six, { ...held, subnet: 'fd00:72:0:5::/64' }, false).clusterNetworks).toEqual({ 4: [], 6: ['fd00:72::/56'] });
    expect(masqSpecOf('_default', ok(families(DUAL, '')), held, false)).toMatchObject({
      subnets: ['10.244.3.0/24', 'fc00:0:0:3::/64'],
      clusterNetworks: { 4: ['10.244.0.0/16'], 6: ['fc00::/48'] },
    });
  });
});

describe('peerPlans()', () => {
  const held = { key: 'k', subnet: '10.244.1.0/24', subnet6: 'fc00:0:0:1::/64', leaseId: '7', modRevision: '1', expiresAt: 0 };
  const peer = lease('10.244.2.0-24&fc00:0:0:2::-64', '192.0.2.2', '2001:db8::2');

  it('plans two devices for the default network (device) and one holding both families for a named one (inner)', () => {
    const dflt = peerPlans({ f: ok(families(DUAL, '')), held, peers: [peer], iface, vteps: { 4: 3, 6: 4 } });
    expect(dflt.map((d) => [d.index, [...d.want.routes.keys()], [...d.want.fdb.values()]])).toEqual([
      [3, ['10.244.2.0/24'], ['192.0.2.2']],
      [4, ['fc00:0:0:2::/64'], ['2001:db8::2']],
    ]);
    const named = peerPlans({ f: ok(families(DUAL, 'DS')), held, peers: [peer], iface, vteps: { 4: 3 } });
    expect(named).toHaveLength(1);
    expect([...named[0]!.want.routes.keys()]).toEqual(['10.244.2.0/24', 'fc00:0:0:2::/64']);
    expect(named[0]!.scopes.map((x) => [x.clusterNetwork, x.ownSubnet])).toEqual([
      ['10.244.0.0/16', '10.244.1.0/24'],
      ['fc00::/48', 'fc00:0:0:1::/64'],
    ]);
  });

  it("plans an IPv6-only network's peers by their IPv6 half, never routing the keys' empty IPv4 half", () => {
    const six = ok(families({ EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fd00:72::/56' }, 'SIX'));
    const p6 = lease('0.0.0.0-0&fd00:72:0:2::-64', '192.0.2.2');
    const own = { ...held, subnet: 'fd00:72:0:1::/64', subnet6: undefined };
    const [plan] = peerPlans({ f: six, held: own, peers: [p6], iface, vteps: { 6: 3 } });
    expect([...plan!.want.routes.values()]).toEqual([{ dst: 'fd00:72:0:2::/64', gateway: 'fd00:72:0:2::', oif: 3, onlink: true }]);
    expect([...plan!.want.fdb]).toEqual([['02:00:00:00:00:02', '192.0.2.2']]);
  });
});
