import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolve, type DirectoryEntry } from './directory.ts';
import { answersOf, buildQuery, buildResponse, isTruncated, parseQuery, RCODE } from './message.ts';
import { resolvePtr, reverseAddress } from './directory.ts';

describe('DNS messages', () => {
  it('parses a query and answers it with A records that a resolver reads back', () => {
    const q = parseQuery(buildQuery(4242, 'Container2.RED'))!;
    expect(q.name).toBe('container2.red');
    expect(q.question).toEqual({ name: 'Container2.RED', type: 'A', class: 'IN' });
    expect(q.udpSize).toBe(512);
    const r = buildResponse(q, { ips: ['10.10.10.66'] });
    expect(r.readUInt16BE(0)).toBe(4242);
    expect(answersOf(r)).toEqual({ rcode: 0, ips: ['10.10.10.66'], names: [] });
    expect(answersOf(buildResponse(q, { rcode: RCODE.NXDOMAIN }))).toEqual({ rcode: 3, ips: [], names: [] });
    expect(isTruncated(r)).toBe(false);
  });

  it('answers PTR queries with names', () => {
    const q = parseQuery(buildQuery(7, '66.10.10.10.in-addr.arpa', 'PTR'))!;
    expect(answersOf(buildResponse(q, { names: ['container2.RED'] })).names).toEqual(['container2.RED']);
  });

  it('refuses responses, multi-question and truncated packets, and never throws on noise', () => {
    const resp = buildResponse(parseQuery(buildQuery(1, 'a'))!, {});
    expect(parseQuery(resp)).toBeUndefined();
    expect(parseQuery(buildQuery(1, 'a').subarray(0, 14))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(() => parseQuery(Buffer.from(b))).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});

describe('reverse lookups', () => {
  const dir: DirectoryEntry[] = [
    { network: 'RED', name: 'container1', aliases: [], containerID: 'c1', address: '10.10.10.34' },
    { network: 'RED', name: 'container2', aliases: [], containerID: 'c2', address: '10.10.10.66' },
    { network: 'BLUE', name: 'container4', aliases: [], containerID: 'c4', address: '10.10.20.98' },
  ];
  const subnets = ['10.10.10.0/24', '10.10.20.0/24'];

  it('reads the address of an in-addr.arpa name', () => {
    expect(reverseAddress('66.10.10.10.in-addr.arpa')).toBe('10.10.10.66');
    expect(reverseAddress('66.10.10.10.IN-ADDR.ARPA.')).toBe('10.10.10.66');
    expect(reverseAddress('300.10.10.10.in-addr.arpa')).toBeUndefined();
    expect(reverseAddress('example.com')).toBeUndefined();
  });

  it('answers addresses on a shared network, hides the others, forwards what is outside weft', () => {
    expect(resolvePtr(dir, '10.10.10.66', '10.10.10.34', subnets)).toEqual({ kind: 'answer', names: ['container2.RED'] });
    expect(resolvePtr(dir, '10.10.20.98', '10.10.10.34', subnets)).toEqual({ kind: 'nxdomain' });
    expect(resolvePtr(dir, '10.10.10.99', '10.10.10.34', subnets)).toEqual({ kind: 'nxdomain' });
    expect(resolvePtr(dir, '192.0.2.7', '10.10.10.34', subnets)).toEqual({ kind: 'forward' });
  });
});

describe('resolve()', () => {
  const dir: DirectoryEntry[] = [
    { network: 'RED', name: 'container1', aliases: [], containerID: 'c1', address: '10.10.10.34' },
    { network: 'RED', name: 'container2', aliases: ['web'], containerID: 'c2', address: '10.10.10.66' },
    { network: 'RED', name: 'container3', aliases: [], containerID: 'c3', address: '10.10.10.67' },
    { network: 'BLUE', name: 'container3', aliases: [], containerID: 'c3', address: '10.10.20.66' },
    { network: 'BLUE', name: 'container4', aliases: [], containerID: 'c4', address: '10.10.20.98' },
  ];

  it('answers NAME and NAME.NETWORK (any case) and aliases on a shared network', () => {
    expect(resolve(dir, 'container2', '10.10.10.34', 'RED')).toEqual({ kind: 'answer', ips: ['10.10.10.66'] });
    expect(resolve(dir, 'CONTAINER2.red', '10.10.10.34', 'RED')).toEqual({ kind: 'answer', ips: ['10.10.10.66'] });
    expect(resolve(dir, 'web', '10.10.10.34', 'RED')).toEqual({ kind: 'answer', ips: ['10.10.10.66'] });
  });

  it('gives a container on two networks both, preferring the network whose server it asked', () => {
    expect(resolve(dir, 'container4', '10.10.10.67', 'RED')).toEqual({ kind: 'answer', ips: ['10.10.20.98'] });
    expect(resolve(dir, 'container3', '10.10.20.98', 'BLUE')).toEqual({ kind: 'answer', ips: ['10.10.20.66'] });
  });

  it('hides names of networks the asker is not on, answers them locally, and forwards what is not a container name', () => {
    expect(resolve(dir, 'container4', '10.10.10.34', 'RED')).toEqual({ kind: 'nxdomain' });
    expect(resolve(dir, 'container4.blue', '10.10.10.34', 'RED')).toEqual({ kind: 'nxdomain' });
    expect(resolve(dir, 'container4.blue.example.com', '10.10.10.34', 'RED')).toEqual({ kind: 'forward' });
    expect(resolve(dir, 'nosuch.red', '10.10.10.34', 'RED')).toEqual({ kind: 'nxdomain' });
    expect(resolve(dir, 'example.com', '10.10.10.34', 'RED')).toEqual({ kind: 'forward' });
    expect(resolve(dir, 'container2', '192.0.2.7', 'RED')).toEqual({ kind: 'forward' });
  });
});

describe('IPv6 (dual-stack endpoints)', () => {
  const dir: DirectoryEntry[] = [
    { network: 'RED', name: 'container1', aliases: [], containerID: 'c1', address: '10.70.0.34', address6: 'fd00:70::22' },
    { network: 'RED', name: 'container2', aliases: [], containerID: 'c2', address: '10.70.0.66', address6: 'fd00:70::1:0:0:2' },
    { network: 'RED', name: 'only6', aliases: [], containerID: 'c3', address: '', address6: 'fd00:70::99' },
  ];
  const subnets = ['10.70.0.0/24', 'fd00:70::/48'];

  it('answers both families of a name (A gets the IPv4, AAAA the IPv6), and knows an asker by either address', () => {
    expect(resolve(dir, 'container2', '10.70.0.34', 'RED')).toEqual({ kind: 'answer', ips: ['10.70.0.66'], ips6: ['fd00:70::1:0:0:2'] });
    expect(resolve(dir, 'container2.red', 'fd00:70:0::22', 'RED')).toMatchObject({ kind: 'answer', ips6: ['fd00:70::1:0:0:2'] });
    expect(resolve(dir, 'only6', 'fd00:70::22', 'RED')).toEqual({ kind: 'answer', ips: [], ips6: ['fd00:70::99'] });
    const q = parseQuery(buildQuery(9, 'container2', 'AAAA'))!;
    expect(answersOf(buildResponse(q, { ips6: ['fd00:70::1:0:0:2'] }))).toEqual({
      rcode: 0,
      ips: [],
      ips6: ['fd00:70::1:0:0:2'],
      names: [],
    });
  });

  it('reads ip6.arpa names and answers reverse lookups of IPv6 addresses on shared networks', () => {
    const rev = '2.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.7.0.0.0.0.d.f.ip6.arpa';
    expect(reverseAddress(rev)).toBe('fd00:70::1:0:0:2');
    expect(reverseAddress(`${rev}.`.toUpperCase())).toBe('fd00:70::1:0:0:2');
    expect(reverseAddress('2.0.ip6.arpa')).toBeUndefined();
    expect(resolvePtr(dir, reverseAddress(rev)!, 'fd00:70::22', subnets)).toEqual({ kind: 'answer', names: ['container2.RED'] });
    expect(resolvePtr(dir, 'fd00:70::5', '192.0.2.9', subnets)).toEqual({ kind: 'nxdomain' });
    expect(resolvePtr(dir, 'fd99::1', 'fd00:70::22', subnets)).toEqual({ kind: 'forward' });
  });
});
