import { describe, expect, it } from 'vitest';
import { parseAttachConfig } from './config.ts';

const base = { cniVersion: '1.0.0', name: 'cbr0', type: 'weft' };
const none = new Map<string, string>();

describe('parseAttachConfig()', () => {
  it('fills flannel-compatible defaults for the default network', () => {
    expect(parseAttachConfig(base, none)).toMatchObject({
      cniNetwork: 'cbr0',
      network: '',
      subnetFile: '/run/flannel/subnet.env',
      dataDir: '/var/lib/cni/weft',
      bridge: 'cni0',
      mtu: undefined,
      ipMasq: undefined,
      hairpinMode: true,
      isDefaultGateway: true,
      requestedIPs: [],
      validAttachments: undefined,
    });
  });

  it('derives the bridge and lease file of a named network', () => {
    expect(parseAttachConfig({ ...base, network: 'RED' }, none)).toMatchObject({
      bridge: 'w-RED',
      subnetFile: '/run/weft/networks/RED.env',
    });
    expect(parseAttachConfig({ ...base, network: 'a-network-with-a-long-name' }, none).bridge).toMatch(/^w-[0-9a-f]{12}$/);
  });

  it('takes requested addresses from runtimeConfig, then args.cni, then CNI_ARGS', () => {
    const args = new Map([
      ['IP', '10.244.1.9'],
      ['MAC', '02:00:00:00:00:09'],
    ]);
    expect(parseAttachConfig(base, args)).toMatchObject({ requestedIPs: ['10.244.1.9'], requestedMac: '02:00:00:00:00:09' });
    expect(parseAttachConfig({ ...base, args: { cni: { ips: ['10.244.1.8/24'] } } }, args).requestedIPs).toEqual(['10.244.1.8']);
    expect(parseAttachConfig({ ...base, runtimeConfig: { ips: ['10.244.1.7'], mac: 'AA-BB-CC-DD-EE-FF' } }, args)).toMatchObject({
      requestedIPs: ['10.244.1.7'],
      requestedMac: 'aa:bb:cc:dd:ee:ff',
    });
  });

  it('reads the GC list under either key', () => {
    const list = [{ containerID: 'c1', ifname: 'eth0' }];
    expect(parseAttachConfig({ ...base, 'cni.dev/valid-attachments': list }, none).validAttachments).toEqual(list);
    expect(parseAttachConfig({ ...base, 'cni.dev/attachments': list }, none).validAttachments).toEqual(list);
    expect(parseAttachConfig({ ...base, 'cni.dev/valid-attachments': [] }, none).validAttachments).toEqual([]);
  });

  it('reports every problem in one message with code WEFT_INVALID_CONFIG', () => {
    const bad = {
      ...base,
      mtu: 40,
      bridge: 'a-bridge-name-too-long',
      dataDir: 'relative',
      hairpinMode: 'yes',
      dns: [],
      runtimeConfig: { ips: ['nope', '10.0.0.1', '10.0.0.2'] },
    };
    try {
      parseAttachConfig(bad, none);
      expect.unreachable();
    } catch (e) {
      const msg = (e as Error).message;
      expect(e).toMatchObject({ code: 'WEFT_INVALID_CONFIG' });
      for (const part of [
        '"mtu" must be an integer from 68 to 65535, got 40',
        '"bridge": interface name "a-bridge-name-too-long"',
        '"dataDir" must be an absolute path',
        '"hairpinMode" must be true or false',
        '"dns" must be an object',
        'requested address "nope"',
        'more than one requested IPv4 address',
      ]) {
        expect(msg).toContain(part);
      }
    }
  });

  it('lenient mode (DEL) ignores problems in fields that do not locate state', () => {
    expect(parseAttachConfig({ ...base, mtu: 'x', dns: 1 }, none, { lenient: true }).mtu).toBeUndefined();
    expect(() => parseAttachConfig({ ...base, dataDir: 'rel' }, none, { lenient: true })).toThrow(/dataDir/);
  });

  it('returns a frozen value', () => {
    expect(Object.isFrozen(parseAttachConfig(base, none))).toBe(true);
  });
});
