/**
 * The daemon's port guard and VXLAN filter as data, against nft's fake and a temporary CNI data directory:
 * which ports are checked (from the attachment records), which are cut off (a port on a named network's
 * bridge with no record), and which hosts VXLAN is taken from (issue 25).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentBootId, networkState, type AttachmentRecord } from '../contract/mod.ts';
import { FirewallKeeper } from '../firewall/mod.ts';
import { FakeNft } from '../firewall/testing/fake-nft.ts';
import type { Link } from '../kernel/mod.ts';
import { createLogger } from '../log/logger.ts';
import { HostFirewall } from './host-firewall.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const link = (index: number, name: string, master?: number): Link => ({
  index,
  name,
  mtu: 1450,
  mac: undefined,
  flags: 0,
  up: true,
  operstate: 'up',
  master,
  kind: undefined,
  parentIndex: undefined,
  linkNetnsid: undefined,
  vxlan: undefined,
  bridgePort: undefined,
});

function record(network: string, hostVeth: string, ips: string[], mac?: string): AttachmentRecord {
  return {
    v: 1,
    cniNetwork: network || 'cbr0',
    network,
    containerID: hostVeth,
    ifname: 'eth0',
    netns: `/run/netns/${hostVeth}`,
    hostVeth,
    bridge: network ? `w-${network}` : 'cni0',
    bootId: currentBootId(),
    state: 'added',
    ips,
    ...(mac && { mac }),
    created: '2026-12-07T00:00:00Z',
  };
}

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-unit-hostfw-'));
  dirs.push(dataDir);
  const nft = new FakeNft();
  const log = createLogger({ write: () => {} });
  const firewall = new FirewallKeeper({ log, runner: nft });
  const links: Link[] = [link(1, 'eth0'), link(2, 'cni0'), link(3, 'w-RED')];
  const vxlan = [{ port: 0, vni: 1, peers: ['192.0.2.2'] }];
  const fw = new HostFirewall({
    nl: { listLinks: async () => links },
    firewall,
    log,
    dataDir,
    sources: {
      networks: () => [
        { network: '', exclusive: false },
        { network: 'RED', exclusive: true },
      ],
      vxlan: () => vxlan,
    },
  });
  const save = (r: AttachmentRecord) => networkState({ dataDir, network: r.network }).records.save(r);
  const set = (name: string) => nft.sets.get('bridge weft_guard')?.get(name) ?? new Set();
  return { fw, nft, links, vxlan, save, set };
}

describe('HostFirewall', () => {
  it("checks every recorded port; cuts off a named network's port with no record, never one on cni0", async () => {
    const t = setup();
    t.save(record('RED', 'veth00000001', ['10.10.10.2/27', 'fd00:10::2/80'], '02:42:0a:0a:0a:02'));
    t.save(record('', 'veth00000002', ['10.244.1.2/24'], '02:42:0a:f4:01:02'));
    t.links.push(link(10, 'veth00000001', 3), link(11, 'veth00000002', 2), link(12, 'vethstranger', 3), link(13, 'vethlegacy', 2));
    await t.fw.start();
    expect(t.set('ports')).toEqual(new Set(['"veth00000001"', '"veth00000002"']));
    expect(t.set('addrs6')).toEqual(new Set(['"veth00000001" . fd00:10::2']));
    expect(t.set('quarantine')).toEqual(new Set(['"vethstranger"']));

    // The stranger goes, a port whose ADD has not saved its MAC yet comes: neither is cut off.
    t.links.splice(
      t.links.findIndex((l) => l.name === 'vethstranger'),
      1,
    );
    t.links.push(link(14, 'veth00000003', 3));
    t.save(record('RED', 'veth00000003', ['10.10.10.3/27']));
    await t.fw.refresh();
    expect(t.set('quarantine')).toEqual(new Set());
    expect(t.set('ports').has('"veth00000003"')).toBe(false);
  });

  it('leaves out a record whose values are not what weft writes, and cuts its port off', async () => {
    const t = setup();
    t.save(record('RED', 'veth00000001', ['10.10.10.2/27 } accept'], '02:42:0a:0a:0a:02'));
    t.links.push(link(10, 'veth00000001', 3));
    await t.fw.start();
    expect(t.set('ports')).toEqual(new Set());
    expect(t.set('quarantine')).toEqual(new Set(['"veth00000001"']));
  });

  it('takes VXLAN from the peers the agents program, and follows them', async () => {
    const t = setup();
    await t.fw.start();
    const peers4 = () => t.nft.sets.get('inet weft_vxlan')?.get('peers4') ?? new Set();
    expect(peers4()).toEqual(new Set(['0x1 . 192.0.2.2']));
    t.vxlan.push({ port: 0, vni: 256, peers: ['192.0.2.2', '192.0.2.3'] });
    await t.fw.refresh();
    expect(peers4()).toEqual(new Set(['0x1 . 192.0.2.2', '0x100 . 192.0.2.2', '0x100 . 192.0.2.3']));
    t.vxlan.splice(0, 1);
    await t.fw.refresh();
    expect(peers4()).toEqual(new Set(['0x100 . 192.0.2.2', '0x100 . 192.0.2.3']));
  });
});
