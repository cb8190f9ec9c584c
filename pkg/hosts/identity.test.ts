import { describe, expect, it } from 'vitest';
import { decideIdentity, decodeHostRecord, encodeHostRecord, hostKey, type HostRecord } from './identity.ts';

const ID1 = '3f2a9c0e11112222333344445555aaaa';
const ID2 = '9b7d00ff66667777888899990000bbbb';
const me: HostRecord = { HostID: ID1, NodeName: 'clone', PublicIP: '192.0.2.1', Started: '2026-12-07T10:00:00.000Z' };
const other = (o: Partial<HostRecord>): HostRecord => ({ HostID: ID2, NodeName: 'h2', PublicIP: '192.0.2.2', Started: '', ...o });

describe('decideIdentity()', () => {
  it('claims a free address', () => {
    expect(decideIdentity(me, { atMyAddress: undefined, others: [] })).toEqual({ kind: 'ok' });
    expect(decideIdentity(me, { atMyAddress: undefined, others: [other({})] })).toEqual({ kind: 'ok' });
  });

  it('takes over its own record (a restart: the same host ID), whatever name it had then', () => {
    expect(decideIdentity(me, { atMyAddress: { ...me, NodeName: 'old-name', Started: 'earlier' }, others: [] })).toEqual({ kind: 'ok' });
  });

  it('refuses an address a live host with another host ID holds, in one line naming both sides and the fix', () => {
    const d = decideIdentity(me, { atMyAddress: other({ NodeName: 'h1', PublicIP: '192.0.2.1' }), others: [] });
    expect(d).toEqual({
      kind: 'refuse',
      reason:
        'another host (node h1, host ID 9b7d00ff…) already runs weft with public address 192.0.2.1; ' +
        'give this host its own --public-ip or --iface',
    });
  });

  it('refuses even when the holder has the same node name (a clone left at the same name and address)', () => {
    expect(decideIdentity(me, { atMyAddress: other({ NodeName: 'clone', PublicIP: '192.0.2.1' }), others: [] }).kind).toBe('refuse');
  });

  it('warns, once per host, of other hosts with the same node name: ownership does not depend on it', () => {
    const d = decideIdentity(me, {
      atMyAddress: undefined,
      others: [other({ NodeName: 'clone' }), other({ HostID: ID2.replace('9', '8'), NodeName: 'clone', PublicIP: '192.0.2.3' }), other({})],
    });
    expect(d.kind).toBe('warn');
    expect(d.kind === 'warn' && d.reasons).toEqual([
      'host 192.0.2.2 (host ID 9b7d00ff…) is also named clone; weft tells hosts apart by public address, ' +
        'but logs and inspect show both as one name (set --node-name)',
      'host 192.0.2.3 (host ID 8b7d00ff…) is also named clone; weft tells hosts apart by public address, ' +
        'but logs and inspect show both as one name (set --node-name)',
    ]);
  });

  it('warns of another address carrying this host ID (a copied state directory), not of its name', () => {
    const d = decideIdentity(me, { atMyAddress: undefined, others: [other({ HostID: ID1, NodeName: 'clone' })] });
    expect(d).toEqual({
      kind: 'warn',
      reasons: [
        "host 192.0.2.2 (node clone) has this host's host ID 3f2a9c0e…: a copied state directory? " +
          'delete host-id in one of them and restart it',
      ],
    });
  });

  it('replaces an unreadable value at its key, saying so (no live host wrote it)', () => {
    expect(decideIdentity(me, { atMyAddress: 'unreadable', others: [] })).toEqual({
      kind: 'warn',
      reasons: ['the host record of 192.0.2.1 in etcd was not a host record; replacing it'],
    });
  });
});

describe('host records', () => {
  it('round-trip, keyed by public address', () => {
    expect(decodeHostRecord(encodeHostRecord(me))).toEqual({ ok: true, value: me });
    expect(hostKey('/coreos.com/weft', '192.0.2.1')).toBe('/coreos.com/weft/hosts/192.0.2.1');
  });

  it('decode untrusted values to a reason, never an exception', () => {
    for (const [text, reason] of [
      ['{', 'host record is not JSON'],
      ['[]', 'host record is not an object'],
      ['null', 'host record is not an object'],
      ['{"HostID":"x","NodeName":"n"}', 'host record lacks PublicIP'],
      ['{"HostID":1,"NodeName":"n","PublicIP":"192.0.2.1"}', 'host record lacks HostID'],
    ] as const)
      expect(decodeHostRecord(text)).toEqual({ ok: false, reason });
    expect(decodeHostRecord('{"HostID":"x","NodeName":"n","PublicIP":"p"}')).toEqual({
      ok: true,
      value: { HostID: 'x', NodeName: 'n', PublicIP: 'p', Started: '' },
    });
  });
});
