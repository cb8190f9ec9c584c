/** CHECK (C1-C9), GC (G1-G11) and STATUS (S1-S6), black-box against dist/weft. */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json, type PluginRun } from '../helpers/cni.ts';
import { makeNetns, type TestNetns } from '../helpers/netns.ts';
import { ipJson, run } from '../helpers/sh.ts';

interface Res {
  interfaces: Array<{ name: string; mac: string; sandbox?: string }>;
  ips: Array<{ address: string }>;
}
const err = (r: PluginRun) => JSON.parse(r.stdout) as { code: number; msg: string };
const ls = (h: CniHost, d: string) =>
  existsSync(join(h.dataDir, '_default', d))
    ? readdirSync(join(h.dataDir, '_default', d)).filter((f) => !f.startsWith('last_') && !f.startsWith('.'))
    : [];

function added(h: CniHost, cid: string, c: TestNetns, conf: object = {}, version = '1.1.0'): { res: Res; conf: Record<string, unknown> } {
  const base = h.conf(conf, version);
  const r = h.run('ADD', { cid, netns: c.path, conf: base });
  expect(r.code, r.stdout).toBe(0);
  return { res: json<Res>(r), conf: { ...base, prevResult: json(r) } };
}

describe('CHECK', () => {
  it('passes right after ADD and changes nothing (C1, C9)', () => {
    const h = new CniHost('ck1');
    const c = makeNetns('ck1-c');
    const { conf } = added(h, 'a', c);
    const snapshot = () => JSON.stringify([ipJson(c.name, ['addr']), ipJson(c.name, ['route']), ipJson(h.ns.name, ['link']), ls(h, 'ips')]);
    const before = snapshot();
    for (let i = 0; i < 2; i++) expect(h.run('CHECK', { cid: 'a', netns: c.path, conf })).toMatchObject({ code: 0, stdout: '' });
    expect(snapshot()).toBe(before);
  });

  it('needs a prevResult (C2) and config version 0.4.0 or later (C3); fails after DEL (C5)', () => {
    const h = new CniHost('ck2');
    const c = makeNetns('ck2-c');
    const { conf } = added(h, 'a', c);
    expect(err(h.run('CHECK', { cid: 'a', netns: c.path, conf: h.conf({}, '1.1.0') })).msg).toBe('Required prevResult missing');
    expect(err(h.run('CHECK', { cid: 'a', netns: c.path, conf: { ...conf, cniVersion: '0.3.1' } }))).toMatchObject({
      code: 1,
      msg: 'config version does not allow CHECK',
    });
    h.run('DEL', { cid: 'a', netns: c.path });
    expect(err(h.run('CHECK', { cid: 'a', netns: c.path, conf })).msg).toBe('weft has no attachment eth0 of container a on network cbr0');
  });

  it('accepts a MAC that a later chained plugin changed, as reported in prevResult (C6)', () => {
    const h = new CniHost('ck3');
    const c = makeNetns('ck3-c');
    const { conf } = added(h, 'a', c);
    run('ip', ['-n', c.name, 'link', 'set', 'eth0', 'address', '02:11:22:33:44:55']);
    const prev = conf.prevResult as Res;
    const tuned = {
      ...conf,
      prevResult: { ...prev, interfaces: prev.interfaces.map((i) => (i.name === 'eth0' ? { ...i, mac: '02:11:22:33:44:55' } : i)) },
    };
    expect(h.run('CHECK', { cid: 'a', netns: c.path, conf: tuned }).code).toBe(0);
    expect(err(h.run('CHECK', { cid: 'a', netns: c.path, conf })).msg).toContain(
      'eth0 has MAC 02:11:22:33:44:55, expected 02:42:0a:f4:01:02',
    );
  });

  it('fails when the sandbox in prevResult is not CNI_NETNS (C7)', () => {
    const h = new CniHost('ck4');
    const c = makeNetns('ck4-c');
    const { conf } = added(h, 'a', c);
    const prev = conf.prevResult as Res;
    const moved = {
      ...conf,
      prevResult: { ...prev, interfaces: prev.interfaces.map((i) => (i.sandbox ? { ...i, sandbox: '/run/netns/elsewhere' } : i)) },
    };
    expect(err(h.run('CHECK', { cid: 'a', netns: c.path, conf: moved })).msg).toContain('not in CNI_NETNS');
  });

  const drifts: Array<[string, (h: CniHost, c: TestNetns, res: Res) => void, string]> = [
    ['the container interface deleted', (_h, c) => run('ip', ['-n', c.name, 'link', 'del', 'eth0']), 'interface eth0 is missing'],
    [
      'its address removed',
      (_h, c, res) => run('ip', ['-n', c.name, 'addr', 'del', res.ips[0]!.address, 'dev', 'eth0']),
      'eth0 lacks address 10.244.1.2/24',
    ],
    ['its route removed', (_h, c) => run('ip', ['-n', c.name, 'route', 'del', 'default']), 'route 0.0.0.0/0 via 10.244.1.1 is missing'],
    [
      'the host veth detached',
      (h, _c, res) => run('ip', ['-n', h.ns.name, 'link', 'set', res.interfaces[1]!.name, 'nomaster']),
      'is not attached to cni0',
    ],
    ['the host veth down', (h, _c, res) => run('ip', ['-n', h.ns.name, 'link', 'set', res.interfaces[1]!.name, 'down']), 'is down'],
    [
      'the reservation removed',
      (h, _c, res) => rmSync(join(h.dataDir, '_default/ips', res.ips[0]!.address.split('/')[0]!)),
      'is no longer reserved',
    ],
    ['the bridge deleted', (h) => run('ip', ['-n', h.ns.name, 'link', 'del', 'cni0']), 'bridge cni0 is missing'],
    [
      'the masquerade rule flushed',
      (h) => run('ip', ['netns', 'exec', h.ns.name, 'nft', 'flush', 'chain', 'inet', 'weft-cni', 'masq__default']),
      'masquerade rule of network _default is missing',
    ],
  ];
  for (const [what, breakIt, message] of drifts) {
    it(`detects ${what} (C4)`, () => {
      const h = new CniHost(`ckd${drifts.findIndex((d) => d[0] === what)}`, { ipMasq: false });
      const c = makeNetns(`ckd${drifts.findIndex((d) => d[0] === what)}-c`);
      const { res, conf } = added(h, 'a', c);
      breakIt(h, c, res);
      const r = h.run('CHECK', { cid: 'a', netns: c.path, conf });
      expect(r.code).toBe(1);
      expect(err(r).msg).toContain(message);
    });
  }
});

describe('GC', () => {
  it('removes attachments not in cni.dev/valid-attachments and keeps the listed ones (G1, G4, G5)', () => {
    const h = new CniHost('gc1');
    const a = makeNetns('gc1-a');
    const b = makeNetns('gc1-b');
    const ra = added(h, 'keep', a).res;
    added(h, 'drop', b);
    // Same container ID, another interface: not in the list, so not protected (matching is on the pair).
    expect(h.run('ADD', { cid: 'keep', netns: a.path, ifname: 'net1', conf: h.conf({}, '1.1.0') }).code).toBe(0);
    const r = h.run('GC', { conf: h.conf({ 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] }, '1.1.0') });
    expect(r.code, r.stdout).toBe(0);
    expect(ls(h, 'attachments')).toEqual(['keep@eth0.json']);
    expect(ls(h, 'ips')).toEqual([ra.ips[0]!.address.split('/')[0]]);
    expect(existsSync(join(h.dataDir, '_default/ips/last_reserved_ip.0'))).toBe(true);
    expect(ipJson<Array<{ ifname: string }>>(b.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(ipJson<Array<{ ifname: string }>>(a.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo', 'eth0']);
  });

  it('accepts the older key cni.dev/attachments (G2); with no list, collects everything (G3); repeats cleanly (G9, G11)', () => {
    const h = new CniHost('gc2');
    const a = makeNetns('gc2-a');
    const b = makeNetns('gc2-b');
    added(h, 'a', a);
    added(h, 'b', b);
    expect(h.run('GC', { conf: h.conf({ 'cni.dev/attachments': [{ containerID: 'a', ifname: 'eth0' }] }, '1.1.0') }).code).toBe(0);
    expect(ls(h, 'attachments')).toEqual(['a@eth0.json']);
    expect(h.run('GC', { conf: h.conf({}, '1.1.0') }).code).toBe(0);
    expect(h.run('GC', { conf: h.conf({}, '1.1.0') }).code).toBe(0);
    expect([ls(h, 'attachments'), ls(h, 'ips')]).toEqual([[], []]);
    expect(h.run('DEL', { cid: 'b', netns: b.path }).code).toBe(0);
    expect(h.run('ADD', { cid: 'new', netns: b.path }).code).toBe(0);
  });

  it('is scoped to its CNI network name (G8) and needs config version 1.1.0 (G9)', () => {
    const h = new CniHost('gc3');
    const a = makeNetns('gc3-a');
    added(h, 'a', a, { name: 'other' });
    expect(h.run('GC', { conf: h.conf({}, '1.1.0') }).code).toBe(0);
    expect(ls(h, 'attachments')).toEqual(['a@eth0.json']);
    expect(err(h.run('GC', { conf: h.conf({}, '1.0.0') }))).toMatchObject({ code: 1, msg: 'config version does not allow GC' });
  });
});

describe('STATUS', () => {
  it('succeeds when an ADD could be served (S1) and needs version 1.1.0 (S4)', () => {
    const h = new CniHost('st1');
    expect(h.run('STATUS', { conf: h.conf({}, '1.1.0') })).toMatchObject({ code: 0, stdout: '' });
    expect(err(h.run('STATUS', { conf: h.conf({}, '1.0.0') }))).toMatchObject({ code: 1, msg: 'config version does not allow STATUS' });
  });

  it('is code 50 without a lease, with the pool exhausted (S3) or the overlay device missing (S2); ADD/DEL still work after (S6)', () => {
    const h = new CniHost('st2', { subnet: '10.244.1.1/30' });
    const c = makeNetns('st2-c');
    added(h, 'a', c);
    expect(err(h.run('STATUS', { conf: h.conf({}, '1.1.0') }))).toMatchObject({
      code: 50,
      msg: 'no free address left in 10.244.1.0/30 (all 1 are in use)',
    });
    h.writeLease({ subnet: '10.244.1.1/24', extra: 'WEFT_VXLAN_DEVICE=flannel.1\n' });
    expect(err(h.run('STATUS', { conf: h.conf({}, '1.1.0') }))).toMatchObject({
      code: 50,
      msg: 'overlay device flannel.1 is missing on this host; is weft daemon running?',
    });
    run('ip', ['-n', h.ns.name, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'dstport', '8472']);
    run('ip', ['-n', h.ns.name, 'link', 'set', 'flannel.1', 'up']);
    expect(h.run('STATUS', { conf: h.conf({}, '1.1.0') }).code).toBe(0);
    rmSync(h.subnetFile);
    expect(err(h.run('STATUS', { conf: h.conf({}, '1.1.0') })).code).toBe(50);
    expect(h.run('DEL', { cid: 'a', netns: c.path }).code).toBe(0);
  });

  it('is code 51 when containers are attached to a bridge that is gone', () => {
    const h = new CniHost('st3');
    const c = makeNetns('st3-c');
    added(h, 'a', c);
    run('ip', ['-n', h.ns.name, 'link', 'del', 'cni0']);
    expect(err(h.run('STATUS', { conf: h.conf({}, '1.1.0') }))).toMatchObject({
      code: 51,
      msg: 'bridge cni0 is missing but 1 container(s) are attached to it',
    });
  });
});
