import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttrParseError, AttrWriter, Attrs } from './attrs.ts';
import { decodeAddr, encodeAddr } from './addr.ts';
import { IFF, NLMSG, RT_SCOPE, RT_TABLE, RTPROT, NUD } from './constants.ts';
import { decodeLink, encodeLinkChange, encodeNewLink } from './link.ts';
import { encodeMessage, errnoOf, MessageParseError, parseMessages } from './message.ts';
import { decodeNeigh, encodeFdb, encodeNeigh } from './neigh.ts';
import { decodeRoute, encodeRoute } from './route.ts';

describe('encodeAddr()', () => {
  it('produces the bytes `ip addr add 10.0.0.2/24 brd + dev <3>` sends', () => {
    expect(encodeAddr({ index: 3, cidr: '10.0.0.2/24' }).toString('hex')).toBe(
      '02180000' + '03000000' + '08000200' + '0a000002' + '08000100' + '0a000002' + '08000400' + '0a0000ff',
    );
  });

  it('round-trips through decodeAddr() for both families', () => {
    const v4 = decodeAddr(encodeAddr({ index: 7, cidr: '192.0.2.9/25' }))!;
    expect(v4).toMatchObject({ index: 7, family: 4, address: '192.0.2.9', prefix: 25, cidr: '192.0.2.9/25' });
    const v6 = decodeAddr(encodeAddr({ index: 7, cidr: 'fd00:0::9/64', noDad: true }))!;
    expect(v6).toMatchObject({ family: 6, cidr: 'fd00::9/64', tentative: false });
  });

  it('refuses text that is not CIDR', () => {
    expect(() => encodeAddr({ index: 1, cidr: '10.0.0.2' })).toThrow(/CIDR/);
  });
});

describe('encodeNewLink() / decodeLink()', () => {
  it('round-trips a vxlan link with every typed attribute', () => {
    const msg = encodeNewLink({
      name: 'flannel.1',
      mtu: 1450,
      mac: 'AA:bb:cc:dd:ee:01',
      up: true,
      kind: { type: 'vxlan', vni: 1, port: 8472, local: '192.0.2.1', dev: 4, learning: false, ttl: 0, gbp: true },
    });
    const l = decodeLink(msg);
    expect(l).toMatchObject({ name: 'flannel.1', mtu: 1450, mac: 'aa:bb:cc:dd:ee:01', up: true, kind: 'vxlan' });
    expect(l.vxlan).toMatchObject({ vni: 1, port: 8472, local: '192.0.2.1', dev: 4, learning: false, gbp: true });
  });

  it('omits the port when none is given so the kernel default (8472) applies', () => {
    const l = decodeLink(encodeNewLink({ name: 'v', kind: { type: 'vxlan', vni: 9 } }));
    expect(l.vxlan?.port).toBeUndefined();
  });

  it('nests the veth peer as ifinfomsg + attributes under VETH_INFO_PEER', () => {
    const msg = encodeNewLink({ name: 'veth0', kind: { type: 'veth', peer: { name: 'eth0', netnsFd: 17, mtu: 1400 } } });
    const linkinfo = Attrs.parse(msg, 16).nested(18)!;
    expect(linkinfo.str(1)).toBe('veth');
    const peer = linkinfo.nested(2)!.get(1)!;
    const peerAttrs = Attrs.parse(peer, 16);
    expect(peerAttrs.str(3)).toBe('eth0');
    expect(peerAttrs.u32(28)).toBe(17);
    expect(peerAttrs.u32(4)).toBe(1400);
  });

  it('encodes up/down as a flag with its change mask, and leaves the flags alone otherwise', () => {
    const down = encodeLinkChange({ index: 5, up: false });
    expect(down.readUInt32LE(8)).toBe(0);
    expect(down.readUInt32LE(12)).toBe(IFF.UP);
    const mtuOnly = encodeLinkChange({ index: 5, mtu: 9000 });
    expect(mtuOnly.readUInt32LE(12)).toBe(0);
  });

  it('encodes hairpin as bridge slave data', () => {
    const l = decodeLink(encodeLinkChange({ index: 5, hairpin: true }));
    expect(l.bridgePort).toEqual({ hairpin: true, isolated: false, learning: undefined });
  });
});

describe('encodeRoute() / decodeRoute()', () => {
  it("round-trips flannel's per-peer route: via <subnet>.0 onlink", () => {
    const r = decodeRoute(encodeRoute({ dst: '10.244.2.0/24', gateway: '10.244.2.0', oif: 9, onlink: true }))!;
    expect(r).toMatchObject({
      family: 4,
      dst: '10.244.2.0/24',
      gateway: '10.244.2.0',
      oif: 9,
      onlink: true,
      table: RT_TABLE.MAIN,
      protocol: RTPROT.BOOT,
      scope: RT_SCOPE.UNIVERSE,
    });
  });

  it('gives a device route link scope and a default route the 0/0 destination', () => {
    expect(decodeRoute(encodeRoute({ dst: '10.1.0.0/16', oif: 2 }))!.scope).toBe(RT_SCOPE.LINK);
    expect(decodeRoute(encodeRoute({ dst: '0.0.0.0/0', gateway: '10.1.0.1' }))!.dst).toBe('0.0.0.0/0');
    expect(decodeRoute(encodeRoute({ dst: '::/0', gateway: 'fd00::1', metric: 1024, mtu: 1400 }))).toMatchObject({
      family: 6,
      dst: '::/0',
      gateway: 'fd00::1',
      metric: 1024,
      mtu: 1400,
    });
  });

  it('uses wildcards for a delete so any matching route is found', () => {
    const b = encodeRoute({ dst: '10.1.0.0/16' }, 'delete');
    expect(b.readUInt8(6)).toBe(RT_SCOPE.NOWHERE);
    expect(b.readUInt8(5)).toBe(0);
    expect(b.readUInt8(7)).toBe(0);
  });

  it('refuses a gateway of the other family', () => {
    expect(() => encodeRoute({ dst: '10.0.0.0/8', gateway: 'fd00::1' })).toThrow(/IPv4/);
  });
});

describe('encodeNeigh() / encodeFdb() / decodeNeigh()', () => {
  it('round-trips a permanent ARP entry', () => {
    const d = decodeNeigh(encodeNeigh({ index: 4, ip: '10.244.2.0', mac: 'c6:d2:32:6f:8f:44' }));
    expect(d).toEqual({
      kind: 'neigh',
      neigh: { index: 4, family: 4, ip: '10.244.2.0', mac: 'c6:d2:32:6f:8f:44', state: NUD.PERMANENT, flags: 0, permanent: true },
    });
  });

  it('round-trips a self FDB entry pointing a MAC at a VTEP', () => {
    const d = decodeNeigh(encodeFdb({ index: 4, mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.12' }));
    expect(d).toMatchObject({ kind: 'fdb', fdb: { mac: 'c6:d2:32:6f:8f:44', dst: '192.0.2.12', self: true, permanent: true } });
  });
});

describe('framing', () => {
  it('parseMessages() splits a datagram and errnoOf() reads ACKs and errors', () => {
    const ack = Buffer.alloc(20);
    const err = Buffer.alloc(20);
    err.writeInt32LE(-17, 0);
    const dgram = Buffer.concat([
      encodeMessage({ type: NLMSG.ERROR, flags: 0, seq: 1, payload: ack }),
      encodeMessage({ type: NLMSG.ERROR, flags: 0, seq: 2, payload: err }),
    ]);
    const msgs = parseMessages(dgram);
    expect(msgs.map((m) => [m.seq, errnoOf(m)])).toEqual([
      [1, 0],
      [2, 17],
    ]);
  });

  it('never reads past the buffer on hostile input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b = Buffer.from(bytes);
        for (const parse of [
          () => parseMessages(b),
          () => Attrs.parse(b),
          () => decodeLink(b),
          () => decodeRoute(b),
          () => decodeAddr(b),
          () => decodeNeigh(b),
        ]) {
          try {
            parse();
          } catch (e) {
            expect(e instanceof RangeError || e instanceof AttrParseError || e instanceof MessageParseError).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('AttrWriter pads every attribute to 4 bytes', () => {
    const b = new AttrWriter().u8(1, 7).str(2, 'ab').toBuffer();
    expect(b.length).toBe(8 + 8);
    const a = Attrs.parse(b);
    expect([a.u8(1), a.str(2)]).toEqual([7, 'ab']);
  });
});
