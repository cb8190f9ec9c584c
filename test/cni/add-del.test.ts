/**
 * The CNI checklist (the CNI spec's requirements per verb) for ADD and DEL, black-box against dist/weft: results
 * in every version's format, the kernel state behind them, and DEL's idempotence.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json } from '../helpers/cni.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson, ping, tryRun } from '../helpers/sh.ts';

interface Result1 {
  cniVersion: string;
  interfaces: Array<{ name: string; mac: string; sandbox?: string; mtu?: number }>;
  ips: Array<{ address: string; gateway?: string; interface?: number; version?: string }>;
  routes: Array<{ dst: string; gw?: string }>;
  dns?: object;
}

const addrsOf = (ns: string, dev: string) =>
  ipJson<Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>(ns, ['addr', 'show', 'dev', dev])[0]!
    .addr_info.filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);
const ipFiles = (h: CniHost) =>
  existsSync(join(h.dataDir, '_default/ips')) ? readdirSync(join(h.dataDir, '_default/ips')).filter((f) => !f.startsWith('last_')) : [];

describe('ADD', () => {
  for (const version of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    for (const ifname of ['eth0', 'net1']) {
      it(`returns a ${version} result for ${ifname} that matches the kernel (A7-A11, A14)`, () => {
        const h = new CniHost(`av${version.replace(/\./g, '')}${ifname}`);
        const c = makeNetns(`c${version.replace(/\./g, '')}${ifname}`);
        const r = h.run('ADD', { cid: 'ctr1', netns: c.path, ifname, conf: h.conf({}, version) });
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const res = json<Result1>(r);
        expect(res.cniVersion).toBe(version);
        // interfaces: bridge and host veth without sandbox, the container's with mac and sandbox
        expect(res.interfaces.map((i) => i.name)).toEqual(['cni0', expect.stringMatching(/^veth[0-9a-f]{8}$/), ifname]);
        expect(res.interfaces[0]!.sandbox).toBeUndefined();
        expect(res.interfaces[1]!.sandbox).toBeUndefined();
        expect(res.interfaces[2]).toMatchObject({
          name: ifname,
          sandbox: c.path,
          mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
        });
        expect(res.interfaces.every((i) => i.name.length <= 15)).toBe(true);
        expect('mtu' in res.interfaces[2]!).toBe(version === '1.1.0');
        // ips point at the container interface; 0.3.x/0.4.0 carry a version
        expect(res.ips).toEqual([
          { ...(version < '1.0.0' && { version: '4' }), interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' },
        ]);
        expect(res.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
        // ...and the kernel agrees
        const link = ipJson<Array<{ address: string; mtu: number; flags: string[] }>>(c.name, ['link', 'show', 'dev', ifname])[0]!;
        expect(link).toMatchObject({ address: res.interfaces[2]!.mac, mtu: 1450 });
        expect(link.flags).toContain('UP');
        expect(addrsOf(c.name, ifname)).toEqual(['10.244.1.2/24']);
        expect(ipJson(c.name, ['route', 'show', 'default'])).toEqual([expect.objectContaining({ gateway: '10.244.1.1', dev: ifname })]);
        const hostVeth = ipJson<Array<{ master: string; mtu: number; flags: string[] }>>(h.ns.name, [
          'link',
          'show',
          'dev',
          res.interfaces[1]!.name,
        ])[0]!;
        expect(hostVeth).toMatchObject({ master: 'cni0', mtu: 1450 });
        expect(addrsOf(h.ns.name, 'cni0')).toEqual(['10.244.1.1/24']);
        expect(ping(c.name, '10.244.1.1')).toBe(true);
      });
    }
  }

  it('answers 0.1.0/0.2.0 (and a config without cniVersion) in the ip4 format (A12, X10)', () => {
    const h = new CniHost('a020');
    for (const [cid, v] of [
      ['c020', '0.2.0'],
      ['cnone', undefined],
    ] as const) {
      const c = makeNetns(cid);
      const conf = h.conf({}, v);
      if (v === undefined) delete conf.cniVersion;
      const r = h.run('ADD', { cid, netns: c.path, conf });
      expect(json(r)).toMatchObject({
        cniVersion: v ?? '0.1.0',
        ip4: {
          ip: expect.stringMatching(/^10\.244\.1\.\d+\/24$/),
          gateway: '10.244.1.1',
          routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
        },
      });
    }
  });

  it('gives a dual-stack attachment one address per family, both routed and reachable', () => {
    const h = new CniHost('adual', { extra: 'FLANNEL_IPV6_NETWORK=fd10::/48\nFLANNEL_IPV6_SUBNET=fd10:0:0:1::1/64\n' });
    const c = makeNetns('adual-c');
    const res = json<Result1>(h.run('ADD', { cid: 'dual', netns: c.path, conf: h.conf({}, '1.1.0') }));
    expect(res.ips).toEqual([
      { interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' },
      { interface: 2, address: 'fd10:0:0:1::2/64', gateway: 'fd10:0:0:1::1' },
    ]);
    expect(res.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.244.1.1' },
      { dst: '::/0', gw: 'fd10:0:0:1::1' },
    ]);
    expect(ipJson(c.name, ['-6', 'route', 'show', 'default'])).toEqual([expect.objectContaining({ gateway: 'fd10:0:0:1::1' })]);
    expect(ping(c.name, 'fd10:0:0:1::1')).toBe(true);
    expect(h.run('DEL', { cid: 'dual', netns: c.path }).code).toBe(0);
    expect(ipFiles(h)).toEqual([]);

    // Every result version carries both families, in its own shape (issue 15).
    for (const v of ['0.2.0', '0.3.1', '0.4.0', '1.0.0']) {
      const n = makeNetns(`adual-${v.replace(/\./g, '')}`);
      const r = json<Record<string, unknown>>(h.run('ADD', { cid: `v${v}`, netns: n.path, conf: h.conf({}, v) }));
      const [v4, v6] = [expect.stringMatching(/^10\.244\.1\.\d+\/24$/), expect.stringMatching(/^fd10:0:0:1::[0-9a-f]+\/64$/)];
      if (v === '0.2.0') expect(r).toMatchObject({ ip4: { ip: v4 }, ip6: { ip: v6, gateway: 'fd10:0:0:1::1' } });
      else
        expect((r.ips as Array<{ address: string; version?: string }>).map((i) => [i.address, i.version])).toEqual([
          [v4, v === '1.0.0' ? undefined : '4'],
          [v6, v === '1.0.0' ? undefined : '6'],
        ]);
      expect(h.run('DEL', { cid: `v${v}`, netns: n.path, conf: h.conf({}, v) }).code).toBe(0);
    }
  });

  it('gives containers on one host distinct addresses that reach each other across the bridge', () => {
    const h = new CniHost('apair');
    const a = makeNetns('pa');
    const b = makeNetns('pb');
    const ra = json<Result1>(h.run('ADD', { cid: 'a', netns: a.path }));
    const rb = json<Result1>(h.run('ADD', { cid: 'b', netns: b.path }));
    expect(ra.ips[0]!.address).not.toBe(rb.ips[0]!.address);
    expect(ping(a.name, rb.ips[0]!.address.split('/')[0]!)).toBe(true);
  });

  it('one container can have two attachments with separate state (A17); DEL of one keeps the other (D10)', () => {
    const h = new CniHost('atwo');
    const c = makeNetns('two');
    const r0 = json<Result1>(h.run('ADD', { cid: 'ctr', netns: c.path, ifname: 'eth0' }));
    const r1 = json<Result1>(h.run('ADD', { cid: 'ctr', netns: c.path, ifname: 'net1' }));
    expect(r0.ips[0]!.address).not.toBe(r1.ips[0]!.address);
    expect(r1.routes).toEqual([{ dst: '10.244.0.0/16', gw: '10.244.1.1' }]);
    expect(h.run('DEL', { cid: 'ctr', netns: c.path, ifname: 'eth0' }).code).toBe(0);
    expect(
      ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show'])
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['lo', 'net1']);
    expect(ipFiles(h)).toEqual([r1.ips[0]!.address.split('/')[0]]);
  });

  it('honours a requested address and MAC (A22, A23), from runtimeConfig and from CNI_ARGS', () => {
    const h = new CniHost('areq');
    const c = makeNetns('req');
    const r = json<Result1>(
      h.run('ADD', {
        cid: 'r1',
        netns: c.path,
        conf: h.conf({ capabilities: { ips: true, mac: true }, runtimeConfig: { ips: ['10.244.1.77/24'], mac: '02:aa:bb:cc:dd:ee' } }),
      }),
    );
    expect(r.ips[0]!.address).toBe('10.244.1.77/24');
    expect(r.interfaces[2]!.mac).toBe('02:aa:bb:cc:dd:ee');
    const c2 = makeNetns('req2');
    const r2 = json<Result1>(h.run('ADD', { cid: 'r2', netns: c2.path, args: 'IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.244.1.78' }));
    expect(r2.ips[0]!.address).toBe('10.244.1.78/24');
  });

  it('passes a prevResult through, adding its own interfaces after (A21)', () => {
    const h = new CniHost('aprev');
    const c = makeNetns('prev');
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'lo0', sandbox: c.path }],
      ips: [{ address: '192.0.2.9/32', interface: 0 }],
    };
    const r = json<Result1>(h.run('ADD', { cid: 'p', netns: c.path, conf: h.conf({ prevResult }) }));
    expect(r.interfaces.map((i) => i.name)).toEqual(['lo0', 'cni0', expect.any(String), 'eth0']);
    expect(r.ips).toEqual([
      { address: '192.0.2.9/32', interface: 0 },
      { interface: 3, address: '10.244.1.2/24', gateway: '10.244.1.1' },
    ]);
  });
});

describe('DEL', () => {
  it('removes the interface, the host veth, the address and the record, and is idempotent (D1, D2)', () => {
    const h = new CniHost('dbasic');
    const c = makeNetns('dbasic-c');
    const res = json<Result1>(h.run('ADD', { cid: 'c1', netns: c.path }));
    for (let i = 0; i < 3; i++) expect(h.run('DEL', { cid: 'c1', netns: c.path }).code).toBe(0);
    expect(ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(tryRun('ip', ['-n', h.ns.name, 'link', 'show', res.interfaces[1]!.name]).ok).toBe(false);
    expect(ipFiles(h)).toEqual([]);
    expect(readdirSync(join(h.dataDir, '_default/attachments'))).toEqual([]);
  });

  it('succeeds and cleans up with CNI_NETNS empty, with the namespace gone, and without prevResult (D3-D5)', () => {
    const h = new CniHost('dnons');
    for (const mode of ['empty', 'gone'] as const) {
      const c = makeNetns(`dn${mode}`);
      const res = json<Result1>(h.run('ADD', { cid: `c-${mode}`, netns: c.path }));
      if (mode === 'gone') tryRun('ip', ['netns', 'del', c.name]);
      const r = h.run('DEL', { cid: `c-${mode}`, netns: mode === 'empty' ? '' : c.path });
      expect(r.code, r.stdout).toBe(0);
      expect(tryRun('ip', ['-n', h.ns.name, 'link', 'show', res.interfaces[1]!.name]).ok).toBe(false);
    }
    expect(ipFiles(h)).toEqual([]);
  });

  it('succeeds for an attachment never added (D6) and when the interfaces were already removed by hand (D8)', () => {
    const h = new CniHost('dnever');
    expect(h.run('DEL', { cid: 'never', netns: '/run/netns/nope' }).code).toBe(0);
    const c = makeNetns('dhand');
    const res = json<Result1>(h.run('ADD', { cid: 'hand', netns: c.path }));
    tryRun('ip', ['-n', h.ns.name, 'link', 'del', res.interfaces[1]!.name]);
    expect(h.run('DEL', { cid: 'hand', netns: c.path }).code).toBe(0);
    expect(ipFiles(h)).toEqual([]);
  });

  it('releases the original reservation after the config changed (D9) and tolerates bad CNI_ARGS and config on DEL (D12)', () => {
    const h = new CniHost('dchg');
    const c = makeNetns('dchg-c');
    h.run('ADD', { cid: 'chg', netns: c.path });
    h.writeLease({ subnet: '10.244.9.1/24', mtu: 1400 });
    const r = h.run('DEL', { cid: 'chg', netns: c.path, args: 'garbage;;', conf: h.conf({ mtu: 'big', dns: 7 }) });
    expect(r.code, r.stdout).toBe(0);
    expect(ipFiles(h)).toEqual([]);
  });

  it('requires CNI_CONTAINERID and CNI_IFNAME (D11)', () => {
    const h = new CniHost('dreq');
    expect(json(h.run('DEL', { cid: '', ifname: '' }))).toMatchObject({
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID,CNI_IFNAME] missing',
    });
  });
});
