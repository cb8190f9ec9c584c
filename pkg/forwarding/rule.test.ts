import { describe, expect, it } from 'vitest';
import { keepHostSysctls } from './keep.ts';
import { holds, hostSysctls, type HostSysctl } from './rule.ts';

const keys = (plan: readonly HostSysctl[]) => plan.map((s) => `${s.key}=${s.value}`);

describe('hostSysctls()', () => {
  it('plans forwarding of each family a host routes; IPv4 alone needs nothing of IPv6', () => {
    expect(keys(hostSysctls({ families: [4], underlays: ['eth0'] }))).toEqual(['net/ipv4/ip_forward=1']);
    expect(hostSysctls({ families: [] })).toEqual([]);
  });

  it("keeps the underlay's router advertisements, planned before the IPv6 forwarding that would stop them", () => {
    expect(keys(hostSysctls({ families: [6, 4], underlays: ['eth0.100', 'eth0.100'] }))).toEqual([
      'net/ipv4/ip_forward=1',
      'net/ipv6/conf/eth0.100/accept_ra=2',
      'net/ipv6/conf/all/forwarding=1',
    ]);
  });

  it('plans no accept_ra when the underlay is unknown (the CNI plugin)', () => {
    expect(keys(hostSysctls({ families: [4, 6] }))).toEqual(['net/ipv4/ip_forward=1', 'net/ipv6/conf/all/forwarding=1']);
  });
});

describe('holds()', () => {
  const [ra, fwd] = hostSysctls({ families: [6], underlays: ['eth0'] });
  it('raises accept_ra from 1 only: 0 (no advertisements) and 2 are left alone', () => {
    expect(['0', '1', '2'].map((v) => holds(ra!, v))).toEqual([true, false, true]);
  });
  it('wants forwarding on whatever it was', () => {
    expect(['0', '1', ''].map((v) => holds(fwd!, v))).toEqual([false, true, false]);
  });
});

describe('keepHostSysctls()', () => {
  it('writes what differs in plan order, reports what it was, and goes on past a failure', () => {
    const now = new Map([
      ['net/ipv4/ip_forward', '1'],
      ['net/ipv6/conf/eth0/accept_ra', '1'],
      ['net/ipv6/conf/all/forwarding', '0'],
    ]);
    const writes: string[] = [];
    const k = {
      readSysctl: (key: string) => now.get(key) ?? '0',
      writeSysctl: (key: string, value: string) => {
        if (key.includes('accept_ra')) throw new Error('EACCES');
        writes.push(`${key}=${value}`);
        now.set(key, value);
      },
    };
    const r = keepHostSysctls(k, hostSysctls({ families: [4, 6], underlays: ['eth0'] }));
    expect(writes).toEqual(['net/ipv6/conf/all/forwarding=1']);
    expect(r.changed.map((c) => [c.setting.key, c.was])).toEqual([['net/ipv6/conf/all/forwarding', '0']]);
    expect(r.failed.map((f) => f.setting.kind)).toEqual(['accept_ra']);
    expect(keepHostSysctls(k, hostSysctls({ families: [4] })).changed).toEqual([]);
  });
});
