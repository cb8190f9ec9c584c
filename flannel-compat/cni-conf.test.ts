import { describe, expect, it } from 'vitest';
import { flannelToWeft } from './cni-conf.ts';

describe('flannelToWeft()', () => {
  it("maps kube-flannel's stock plugin entry onto weft with the delegate's settings", () => {
    const stock = { cniVersion: '0.3.1', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } };
    expect(flannelToWeft(stock)).toEqual({
      ok: true,
      value: { cniVersion: '0.3.1', name: 'cbr0', type: 'weft', network: '', hairpinMode: true, isDefaultGateway: true },
    });
  });

  it("keeps subnetFile, runtime keys and the delegate's mtu, ipMasq and bridge; defaults follow the bridge plugin", () => {
    const r = flannelToWeft({
      name: 'n',
      type: 'flannel',
      subnetFile: '/run/x.env',
      dataDir: '/var/lib/cni/flannel',
      runtimeConfig: { portMappings: [] },
      prevResult: { ips: [] },
      delegate: { type: 'bridge', mtu: 1400, ipMasq: true, bridge: 'cbr0' },
    });
    expect(r).toEqual({
      ok: true,
      value: {
        name: 'n',
        type: 'weft',
        network: '',
        subnetFile: '/run/x.env',
        runtimeConfig: { portMappings: [] },
        prevResult: { ips: [] },
        hairpinMode: false,
        isDefaultGateway: false,
        mtu: 1400,
        ipMasq: true,
        bridge: 'cbr0',
      },
    });
  });

  it('refuses delegates weft cannot stand in for, as flannel refuses name and ipam', () => {
    expect(flannelToWeft({ type: 'flannel', delegate: { type: 'win-overlay' } })).toEqual({
      ok: false,
      reason: 'flannel delegate type "win-overlay" is not supported; weft replaces the bridge delegate',
    });
    expect(flannelToWeft({ type: 'flannel', delegate: { name: 'x' } }).ok).toBe(false);
    expect(flannelToWeft({ type: 'flannel', delegate: { ipam: {} } }).ok).toBe(false);
    expect(flannelToWeft({ type: 'flannel', delegate: [] }).ok).toBe(false);
  });
});
