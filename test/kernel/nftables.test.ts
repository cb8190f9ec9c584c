/**
 * Set elements over nfnetlink (pkg/kernel/nftables.ts), checked with nft itself: the CNI plugin's keys for a
 * port land in the port guard exactly as the daemon's nft script would put them (issue 25), in one
 * transaction, and a missing table is ENOENT; the daemon's (VNI, address) pairs land in the VXLAN filter so.
 */
import { describe, expect, it } from 'vitest';
import {
  GUARD_TABLE,
  guardElements,
  guardTable,
  listedElements,
  portKeys,
  portOf,
  replaceScript,
  canonicalElement,
  VXLAN_TABLE,
  vxlanElements,
  vxlanKeys,
  vxlanTable,
} from '../../pkg/firewall/mod.ts';
import { isKernelError, NfTables, withNetns } from '../../pkg/kernel/mod.ts';
import { defer, makeNetns } from '../helpers/netns.ts';
import { run } from '../helpers/sh.ts';

describe('NfTables.addElements()', () => {
  it("adds a port's keys to the guard's sets as nft reads them, and says ENOENT without the table", async () => {
    const t = makeNetns('nf');
    const nf = withNetns(t.ns, () => NfTables.open());
    defer(() => nf.close());
    const port = portOf({ hostVeth: 'veth0a0b0c0d', mac: '02:42:0a:0a:0a:42', ips: ['10.10.10.66/27', 'fd00:10::1b:0:0:2/80'] })!;

    const missing = await nf.addElements('bridge', GUARD_TABLE, portKeys(port)).catch((e: unknown) => e);
    expect(isKernelError(missing, 'ENOENT')).toBe(true);

    run('ip', ['netns', 'exec', t.name, 'nft', '-f', '-'], { input: replaceScript(guardTable()) });
    await nf.addElements('bridge', GUARD_TABLE, portKeys(port));
    await nf.addElements('bridge', GUARD_TABLE, portKeys(port)); // again: already there is no error
    const listed = listedElements(run('ip', ['netns', 'exec', t.name, 'nft', 'list', 'table', 'bridge', GUARD_TABLE]));
    const want = guardElements([port]);
    for (const [set, es] of Object.entries(want)) expect([...(listed.get(set) ?? [])].sort(), set).toEqual(es.map(canonicalElement).sort());
  });

  it("adds the VXLAN filter's (VNI, address) pairs as nft reads them", async () => {
    const t = makeNetns('nv');
    const nf = withNetns(t.ns, () => NfTables.open());
    defer(() => nf.close());
    const sources = [
      { port: 0, vni: 1, peers: ['192.0.2.2', '2001:db8::2'] },
      { port: 0, vni: 0x123456, peers: ['192.0.2.3'] },
    ];
    run('ip', ['netns', 'exec', t.name, 'nft', '-f', '-'], { input: replaceScript(vxlanTable(sources)!) });
    const want = vxlanElements(sources);
    await nf.addElements('inet', VXLAN_TABLE, vxlanKeys([...want.peers4, ...want.peers6]));
    const listed = () => listedElements(run('ip', ['netns', 'exec', t.name, 'nft', 'list', 'table', 'inet', VXLAN_TABLE]));
    expect([...(listed().get('peers4') ?? [])].sort()).toEqual(want.peers4.map(canonicalElement).sort());
    expect([...(listed().get('peers6') ?? [])].sort()).toEqual(want.peers6.map(canonicalElement).sort());

    // One pair goes and one comes in one transaction; deleting a pair that is not there fails it whole.
    await nf.changeElements('inet', VXLAN_TABLE, { del: vxlanKeys(['0x1 . 192.0.2.2']), add: vxlanKeys(['0x1 . 192.0.2.9']) });
    expect([...(listed().get('peers4') ?? [])].sort()).toEqual(['0x1 . 192.0.2.9', '0x123456 . 192.0.2.3']);
    const gone = await nf
      .changeElements('inet', VXLAN_TABLE, { del: vxlanKeys(['0x1 . 192.0.2.2']), add: vxlanKeys(['0x1 . 192.0.2.10']) })
      .catch((e: unknown) => e);
    expect(isKernelError(gone, 'ENOENT')).toBe(true);
    expect([...(listed().get('peers4') ?? [])]).not.toContain('0x1 . 192.0.2.10');
  });
});
