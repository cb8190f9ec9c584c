/**
 * weft standing in for flannel's CNI plugin: an unchanged `type: "flannel"` conflist works, and a container
 * that flannel's own plugin attached before the switch is deleted as flannel would delete it (its saved
 * bridge + host-local delegate config is run with DEL), releasing its address.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json, runPlugin } from '../helpers/cni.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson } from '../helpers/sh.ts';

describe('flannel CNI configs', () => {
  it('an unchanged kube-flannel plugin entry attaches and detaches through weft', () => {
    const h = new CniHost('fconf');
    const c = makeNetns('fconf-c');
    const conf = {
      cniVersion: '0.3.1',
      name: 'cbr0',
      type: 'flannel',
      subnetFile: h.subnetFile,
      dataDir: h.dataDir,
      delegate: { hairpinMode: true, isDefaultGateway: true },
    };
    const r = h.run('ADD', { cid: 'f1', netns: c.path, conf });
    expect(json(r)).toMatchObject({
      cniVersion: '0.3.1',
      ips: [{ version: '4', address: '10.244.1.2/24', gateway: '10.244.1.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
    });
    const veth = json<{ interfaces: Array<{ name: string }> }>(r).interfaces[1]!.name;
    expect(ipJson(h.ns.name, ['-d', 'link', 'show', veth])[0]).toMatchObject({
      master: 'cni0',
      linkinfo: { info_slave_data: { hairpin: true } },
    });
    expect(h.run('DEL', { cid: 'f1', netns: c.path, conf }).code).toBe(0);
    expect(ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(json(h.run('ADD', { cid: 'f2', netns: c.path, conf: { ...conf, delegate: { type: 'win-overlay' } } }))).toMatchObject({
      code: 7,
      msg: 'flannel config: flannel delegate type "win-overlay" is not supported; weft replaces the bridge delegate',
    });
  });

  it("DEL of a container attached by flannel's own plugin runs its saved delegate and releases the address", () => {
    const h = new CniHost('flegacy');
    const c = makeNetns('flegacy-c');
    const flannelDir = join(h.dir, 'flannel');
    const hostLocal = join(h.dir, 'host-local');
    mkdirSync(flannelDir, { recursive: true });
    // What flannel's ADD does: save the delegate config it derived from subnet.env, then run bridge with it.
    const delegate = {
      cniVersion: '0.3.1',
      hairpinMode: true,
      ipMasq: false,
      isDefaultGateway: true,
      isGateway: true,
      mtu: 1450,
      name: 'cbr0',
      type: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }], dataDir: hostLocal },
    };
    writeFileSync(join(flannelDir, 'old1'), JSON.stringify(delegate));
    const env = { CNI_CONTAINERID: 'old1', CNI_NETNS: c.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CNI_ARGS: '' };
    expect(runPlugin({ hostNetns: h.ns.path, bin: '/usr/lib/cni/bridge', env: { ...env, CNI_COMMAND: 'ADD' }, stdin: delegate }).code).toBe(
      0,
    );
    expect(readdirSync(join(hostLocal, 'cbr0')).filter((f) => f.startsWith('10.'))).toEqual(['10.244.1.2']);

    const conf = {
      cniVersion: '0.3.1',
      name: 'cbr0',
      type: 'flannel',
      subnetFile: h.subnetFile,
      dataDir: flannelDir,
      delegate: { hairpinMode: true },
    };
    const del = runPlugin({ hostNetns: h.ns.path, env: { ...env, CNI_COMMAND: 'DEL' }, stdin: conf });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(readdirSync(join(hostLocal, 'cbr0')).filter((f) => f.startsWith('10.'))).toEqual([]);
    expect(existsSync(join(flannelDir, 'old1'))).toBe(false);
    expect(ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });
});
