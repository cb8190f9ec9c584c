import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolve, type DirectoryEntry } from './directory.ts';
import { answersOf, buildQuery, buildResponse, parseQuery, RCODE, TYPE } from './message.ts';

describe('DNS messages', () => {
  it('parses a query and answers it with A records that a resolver reads back', () => {
    const q = parseQuery(buildQuery(4242, 'Container2.RED'))!;
    expect(q.question).toEqual({ name: 'container2.red', type: TYPE.A, cls: 1 });
    const r = buildResponse(q, { ips: ['10.10.10.66'] });
    expect(r.readUInt16BE(0)).toBe(4242);
    expect(answersOf(r)).toEqual({ rcode: 0, ips: ['10.10.10.66'] });
    expect(answersOf(buildResponse(q, { rcode: RCODE.NXDOMAIN }))).toEqual({ rcode: 3, ips: [] });
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
