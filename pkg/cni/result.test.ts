import { describe, expect, it } from 'vitest';
import { mergeResults, readPrevResult, renderResult } from './result.ts';
import type { CniResult } from './types.ts';

const result: CniResult = {
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:f4:01:01', mtu: 1450 },
    { name: 'veth1a2b3c4d', mac: '1e:e7:de:6d:40:8c', mtu: 1450 },
    { name: 'eth0', mac: '02:42:0a:f4:01:02', mtu: 1450, sandbox: '/run/netns/c1' },
  ],
  ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1', mtu: 1400 }],
  dns: { nameservers: ['10.96.0.10'], search: [] },
};

describe('renderResult()', () => {
  it('1.1.0 carries everything', () => {
    const r = renderResult(result, '1.1.0');
    expect(r).toMatchObject({
      cniVersion: '1.1.0',
      interfaces: [{ mtu: 1450 }, {}, { sandbox: '/run/netns/c1', mtu: 1450 }],
      routes: [{ mtu: 1400 }],
    });
    expect(r.dns).toEqual({ nameservers: ['10.96.0.10'] });
  });

  it('1.0.0 drops the 1.1.0-only fields and has no ips[].version', () => {
    const r = renderResult(result, '1.0.0') as { interfaces: object[]; ips: object[]; routes: object[] };
    expect(r.interfaces[2]).toEqual({ name: 'eth0', mac: '02:42:0a:f4:01:02', sandbox: '/run/netns/c1' });
    expect(r.ips[0]).toEqual({ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' });
    expect(r.routes[0]).toEqual({ dst: '0.0.0.0/0', gw: '10.244.1.1' });
  });

  it('0.3.x and 0.4.0 add ips[].version', () => {
    for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const) {
      expect((renderResult(result, v) as { ips: object[] }).ips[0]).toEqual({
        version: '4',
        interface: 2,
        address: '10.244.1.2/24',
        gateway: '10.244.1.1',
      });
    }
  });

  it('0.1.0 and 0.2.0 use ip4 with its routes', () => {
    expect(renderResult(result, '0.2.0')).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '10.244.1.2/24', gateway: '10.244.1.1', routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }] },
      dns: { nameservers: ['10.96.0.10'] },
    });
  });
});

describe('readPrevResult()', () => {
  it('reads back what renderResult() wrote, in every version', () => {
    for (const v of ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const) {
      const back = readPrevResult(renderResult(result, v));
      expect(back.ips).toEqual(result.ips);
      expect(back.interfaces?.map((i) => i.name)).toEqual(['cni0', 'veth1a2b3c4d', 'eth0']);
    }
    expect(readPrevResult(renderResult(result, '0.2.0')).ips).toEqual([{ address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
  });

  it('refuses malformed prevResults with a decode error naming the field', () => {
    expect(() => readPrevResult({ ips: [{ address: '10.0.0.1' }] })).toThrow(
      expect.objectContaining({ code: 'WEFT_DECODE', message: expect.stringContaining('ips[].address') }),
    );
    expect(() => readPrevResult({ interfaces: [{}], ips: [] })).toThrow(/name/);
    expect(() => readPrevResult({ interfaces: [], ips: [{ address: '10.0.0.1/24', interface: 3 }] })).toThrow(/out of range/);
    expect(() => readPrevResult('x')).toThrow(/object/);
  });
});

describe('mergeResults()', () => {
  it("keeps the previous plugin's interfaces and IPs and re-indexes ours after them", () => {
    const prev: CniResult = { interfaces: [{ name: 'net0', sandbox: '/x' }], ips: [{ address: '10.9.0.2/24', interface: 0 }] };
    const merged = mergeResults(prev, result);
    expect(merged.interfaces?.map((i) => i.name)).toEqual(['net0', 'cni0', 'veth1a2b3c4d', 'eth0']);
    expect(merged.ips).toEqual([
      { address: '10.9.0.2/24', interface: 0 },
      { address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 3 },
    ]);
  });
});
