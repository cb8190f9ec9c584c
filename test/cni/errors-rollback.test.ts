/**
 * Bad input gets a spec error with the right code and changes nothing; a failure part way through ADD rolls
 * back everything that ADD made. Faults are real ones (a route or a link name already taken in the kernel),
 * not hooks in the product.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json } from '../helpers/cni.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson, run } from '../helpers/sh.ts';

const state = (h: CniHost) => {
  const ls = (d: string) =>
    existsSync(join(h.dataDir, '_default', d))
      ? readdirSync(join(h.dataDir, '_default', d)).filter((f) => !f.startsWith('last_') && !f.startsWith('.'))
      : [];
  return { ips: ls('ips'), records: ls('attachments') };
};
const hostLinks = (h: CniHost) =>
  ipJson<Array<{ ifname: string }>>(h.ns.name, ['link', 'show'])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('veth'));
const err = (r: { stdout: string }) => JSON.parse(r.stdout) as { code: number; msg: string };

describe('ADD refuses bad input and leaves nothing behind', () => {
  it("a namespace path that does not exist (3), is not a namespace (8), or is the plugin's own (8) (A4)", () => {
    const h = new CniHost('enetns');
    expect(err(h.run('ADD', { cid: 'x', netns: '/run/netns/weft-missing' }))).toMatchObject({
      code: 3,
      msg: 'network namespace /run/netns/weft-missing does not exist',
    });
    expect(err(h.run('ADD', { cid: 'x', netns: '/etc/hostname' })).code).toBe(8);
    expect(err(h.run('ADD', { cid: 'x', netns: h.ns.path }))).toMatchObject({
      code: 8,
      msg: expect.stringContaining("plugin's own network namespace"),
    });
    expect(state(h)).toEqual({ ips: [], records: [] });
  });

  it('an invalid config is code 7 and names every problem (A5)', () => {
    const h = new CniHost('econf');
    const c = makeNetns('econf-c');
    const r = h.run('ADD', { cid: 'x', netns: c.path, conf: h.conf({ mtu: 10, bridge: 'a-very-long-bridge-name' }) });
    expect(err(r)).toMatchObject({ code: 7, msg: expect.stringContaining('"mtu" must be an integer from 68 to 65535, got 10') });
    expect(err(r).msg).toContain('"bridge": interface name "a-very-long-bridge-name" is 23 bytes');
    expect(state(h)).toEqual({ ips: [], records: [] });
  });

  it('a missing lease file is "try again later" (11) and names the file and the daemon', () => {
    const h = new CniHost('elease');
    const c = makeNetns('elease-c');
    rmSync(h.subnetFile);
    expect(err(h.run('ADD', { cid: 'x', netns: c.path }))).toMatchObject({
      code: 11,
      msg: `host lease file ${h.subnetFile} does not exist yet; is weft daemon (or flanneld) running on this host?`,
    });
  });

  it('an interface of that name already in the container is an error and stays untouched (A15)', () => {
    const h = new CniHost('eexist');
    const c = makeNetns('eexist-c');
    run('ip', ['-n', c.name, 'link', 'add', 'eth0', 'type', 'bridge']);
    expect(err(h.run('ADD', { cid: 'x', netns: c.path }))).toMatchObject({ code: 103, msg: `interface eth0 already exists in ${c.path}` });
    expect(ipJson(c.name, ['-d', 'link', 'show', 'eth0'])[0]).toMatchObject({ linkinfo: { info_kind: 'bridge' } });
    expect(state(h)).toEqual({ ips: [], records: [] });
    expect(hostLinks(h)).toEqual([]);
  });

  it('a second ADD for the same container and interface is refused; the first keeps working (A16)', () => {
    const h = new CniHost('edup');
    const c = makeNetns('edup-c');
    const c2 = makeNetns('edup-c2');
    expect(h.run('ADD', { cid: 'dup', netns: c.path }).code).toBe(0);
    expect(err(h.run('ADD', { cid: 'dup', netns: c2.path }))).toMatchObject({
      code: 103,
      msg: 'container dup already has interface eth0 on network cbr0; DEL it before adding it again',
    });
    expect(state(h).ips).toHaveLength(1);
    expect(ipJson<Array<{ ifname: string }>>(c2.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('an exhausted pool is code 101 naming the subnet; existing attachments are unaffected (A18)', () => {
    const h = new CniHost('efull', { subnet: '10.244.1.1/30', network: '10.244.0.0/16' });
    const c1 = makeNetns('efull-1');
    const c2 = makeNetns('efull-2');
    expect(json<{ ips: Array<{ address: string }> }>(h.run('ADD', { cid: 'a', netns: c1.path })).ips[0]!.address).toBe('10.244.1.2/30');
    expect(err(h.run('ADD', { cid: 'b', netns: c2.path }))).toMatchObject({
      code: 101,
      msg: 'no free address left in 10.244.1.0/30 (all 1 are in use)',
    });
    expect(state(h)).toEqual({ ips: ['10.244.1.2'], records: ['a@eth0.json'] });
  });

  it('a requested address that is taken, the gateway, or outside the subnet is code 102 (A23)', () => {
    const h = new CniHost('ereq');
    const c = makeNetns('ereq-c');
    h.run('ADD', { cid: 'a', netns: c.path, conf: h.conf({ runtimeConfig: { ips: ['10.244.1.50'] } }) });
    for (const ip of ['10.244.1.50', '10.244.1.1', '10.9.0.1']) {
      const c2 = makeNetns(`ereq-${ip.replace(/\./g, '')}`);
      expect(
        err(h.run('ADD', { cid: `b${ip.replace(/\./g, '')}`, netns: c2.path, conf: h.conf({ runtimeConfig: { ips: [ip] } }) })).code,
        ip,
      ).toBe(102);
    }
    expect(state(h).ips).toEqual(['10.244.1.50']);
  });
});

describe('ADD rolls back on a failure part way (A19)', () => {
  it("after the address is reserved: the host end's name is taken, so the veth cannot be made", () => {
    const h = new CniHost('rbveth');
    const c = makeNetns('rbveth-c');
    // Learn the host veth name weft derives for (rb, eth0), then occupy it.
    const probe = makeNetns('rbveth-p');
    const name = json<{ interfaces: Array<{ name: string }> }>(h.run('ADD', { cid: 'rb', netns: probe.path })).interfaces[1]!.name;
    expect(h.run('DEL', { cid: 'rb', netns: probe.path }).code).toBe(0);
    run('ip', ['-n', h.ns.name, 'link', 'add', name, 'type', 'bridge']);
    const r = h.run('ADD', { cid: 'rb', netns: c.path });
    expect(err(r)).toMatchObject({ code: 100, msg: expect.stringContaining('EEXIST') });
    expect(state(h)).toEqual({ ips: [], records: [] });
    expect(ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(ipJson(h.ns.name, ['-d', 'link', 'show', name])[0]).toMatchObject({ linkinfo: { info_kind: 'bridge' } });
  });

  it('after the veth and the IPv4 address exist: the container refuses IPv6 on a dual-stack network', () => {
    const h = new CniHost('rbv6', { extra: 'FLANNEL_IPV6_NETWORK=fd10::/48\nFLANNEL_IPV6_SUBNET=fd10:0:0:1::1/64\n' });
    const c = makeNetns('rbv6-c');
    run('ip', ['netns', 'exec', c.name, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    const r = h.run('ADD', { cid: 'v6', netns: c.path });
    expect(err(r)).toMatchObject({ code: 100, msg: expect.stringContaining('add address fd10:0:0:1::2/64') });
    expect(state(h)).toEqual({ ips: [], records: [] });
    expect(hostLinks(h)).toEqual([]);
    expect(ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });
});
