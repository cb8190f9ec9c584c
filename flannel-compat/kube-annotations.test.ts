import { describe, expect, it } from 'vitest';
import { DEFAULT_ANNOTATION_PREFIX as P, leaseAttrsOfNode, nodeAnnotations } from './kube-annotations.ts';

describe('flannel node annotations', () => {
  const mine = nodeAnnotations(P, { publicIP: '192.0.2.1', vxlan: { vni: 1, vtepMac: 'e6:7c:02:8e:e8:7e' } });

  it("publishes exactly flanneld's four annotations", () => {
    expect(mine).toEqual({
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"e6:7c:02:8e:e8:7e"}',
      'flannel.alpha.coreos.com/public-ip': '192.0.2.1',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
    });
  });

  it('reads them back, honours public-ip-overwrite, and tells unmanaged nodes from broken ones', () => {
    expect(leaseAttrsOfNode(P, mine)).toEqual({
      ok: true,
      value: {
        publicIP: '192.0.2.1',
        publicIPv6: undefined,
        backendType: 'vxlan',
        vxlan: { vni: 1, vtepMac: 'e6:7c:02:8e:e8:7e' },
        vxlanV6: undefined,
      },
    });
    expect(leaseAttrsOfNode(P, { ...mine, [`${P}/public-ip-overwrite`]: '198.51.100.9' })).toMatchObject({
      ok: true,
      value: { publicIP: '198.51.100.9' },
    });
    expect(leaseAttrsOfNode(P, {})).toEqual({ ok: false, unmanaged: true });
    expect(leaseAttrsOfNode(P, { ...mine, [`${P}/backend-data`]: '[1]' })).toEqual({
      ok: false,
      reason: 'annotation flannel.alpha.coreos.com/backend-data is not a JSON object',
    });
    expect(leaseAttrsOfNode(P, { ...mine, [`${P}/backend-data`]: '{"VNI":1,"VtepMAC":"zz"}' })).toMatchObject({
      ok: false,
      reason: 'BackendData.VtepMAC "zz" is not a MAC address',
    });
    expect(leaseAttrsOfNode(P, { ...mine, [`${P}/backend-type`]: 'host-gw' })).toMatchObject({
      ok: true,
      value: { backendType: 'host-gw', vxlan: undefined },
    });
    expect(leaseAttrsOfNode('example.com', mine)).toEqual({ ok: false, unmanaged: true });
  });

  it('publishes and reads the IPv6 pair of a dual-stack node (public-ipv6-overwrite honoured)', () => {
    const dual = nodeAnnotations(P, {
      publicIP: '192.0.2.1',
      vxlan: { vni: 1, vtepMac: 'e6:7c:02:8e:e8:7e' },
      publicIPv6: '2001:db8::1',
      vxlanV6: { vni: 1, vtepMac: 'e6:7c:02:8e:e8:66' },
    });
    expect(dual).toMatchObject({
      'flannel.alpha.coreos.com/backend-v6-data': '{"VNI":1,"VtepMAC":"e6:7c:02:8e:e8:66"}',
      'flannel.alpha.coreos.com/public-ipv6': '2001:db8::1',
    });
    expect(leaseAttrsOfNode(P, dual)).toMatchObject({
      ok: true,
      value: { publicIPv6: '2001:db8::1', vxlanV6: { vni: 1, vtepMac: 'e6:7c:02:8e:e8:66' } },
    });
    expect(leaseAttrsOfNode(P, { ...dual, [`${P}/public-ipv6-overwrite`]: '2001:db8::99' })).toMatchObject({
      value: { publicIPv6: '2001:db8::99' },
    });
    expect(leaseAttrsOfNode(P, { ...dual, [`${P}/backend-v6-data`]: '{' })).toMatchObject({ ok: false });
  });
});
