/**
 * Many plugin processes at once, and processes killed at any point: addresses stay unique, and a DEL after
 * a SIGKILL leaves no interface, reservation or record behind (checklist X11, A20, D7).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniHost, json } from '../helpers/cni.ts';
import { makeNetns } from '../helpers/netns.ts';
import { ipJson } from '../helpers/sh.ts';

const ls = (h: CniHost, d: string) =>
  existsSync(join(h.dataDir, '_default', d))
    ? readdirSync(join(h.dataDir, '_default', d)).filter((f) => !f.startsWith('last_') && !f.startsWith('.'))
    : [];
const veths = (h: CniHost) =>
  ipJson<Array<{ ifname: string }>>(h.ns.name, ['link', 'show'])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('veth'));

describe('concurrency', () => {
  it('50 parallel ADDs get 50 distinct addresses; 25 parallel DELs interleaved with 25 ADDs free exactly theirs', async () => {
    const h = new CniHost('par');
    const nss = Array.from({ length: 50 }, (_, i) => makeNetns(`par${i}`));
    const runs = await Promise.all(nss.map((c, i) => h.start('ADD', { cid: `p${i}`, netns: c.path }).done));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
    const ips = runs.map((r) => json<{ ips: Array<{ address: string }> }>(r).ips[0]!.address);
    expect(new Set(ips).size).toBe(50);
    expect(ls(h, 'ips')).toHaveLength(50);

    const more = Array.from({ length: 25 }, (_, i) => makeNetns(`parm${i}`));
    const mixed = await Promise.all([
      ...nss.slice(0, 25).map((c, i) => h.start('DEL', { cid: `p${i}`, netns: c.path }).done),
      ...more.map((c, i) => h.start('ADD', { cid: `m${i}`, netns: c.path }).done),
    ]);
    for (const r of mixed) expect(r.code, r.stdout + r.stderr).toBe(0);
    const held = ls(h, 'ips');
    expect(held).toHaveLength(50);
    // The 25 survivors kept exactly their addresses.
    for (const ip of ips.slice(25)) expect(held).toContain(ip.split('/')[0]);
    expect(veths(h)).toHaveLength(50);
  }, 120_000);
});

describe('crash safety', () => {
  it('a SIGKILL at any point of ADD, then DEL, leaves nothing behind', async () => {
    const h = new CniHost('kill');
    // Warm the bridge so kills land across the whole attachment, then sweep kill delays over an ADD's span.
    const warm = makeNetns('kill-w');
    expect(h.run('ADD', { cid: 'warm', netns: warm.path }).code).toBe(0);
    const outcomes = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const c = makeNetns(`kill${i}`);
      const p = h.start('ADD', { cid: `k${i}`, netns: c.path });
      const delay = 20 + i * 6;
      await new Promise((r) => setTimeout(r, delay));
      p.kill();
      const r = await p.done;
      outcomes.add(r.signal === 'SIGKILL' ? 'killed' : `exit ${r.code}`);
      const del = h.run('DEL', { cid: `k${i}`, netns: c.path });
      expect(del.code, `DEL after a kill at ${delay} ms: ${del.stdout}`).toBe(0);
      expect(
        ipJson<Array<{ ifname: string }>>(c.name, ['link', 'show']).map((l) => l.ifname),
        `container interfaces after a kill at ${delay} ms`,
      ).toEqual(['lo']);
    }
    expect(ls(h, 'ips')).toEqual(['10.244.1.2']);
    expect(ls(h, 'attachments')).toEqual(['warm@eth0.json']);
    expect(veths(h)).toHaveLength(1);
    // The sweep must really have interrupted ADDs (not only missed them all).
    expect(outcomes.has('killed')).toBe(true);
  }, 120_000);
});
