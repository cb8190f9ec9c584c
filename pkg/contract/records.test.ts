import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appliedMasquerades, markMasquerade, masqueradeMarked } from './masq-marker.ts';
import { Records } from './records.ts';
import { record } from './testing/record.ts';
import { networkState } from './state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-contract-'));
  dirs.push(d);
  return d;
};

describe('Records', () => {
  it('creates a record once per attachment, and saves over it afterwards', () => {
    const r = new Records(scratch());
    expect(r.create(record({ state: 'adding' }))).toBe(true);
    expect(r.create(record({ state: 'adding', netns: '/other' }))).toBe(false);
    expect(r.read('c0ffee', 'eth0')?.record).toMatchObject({ state: 'adding', netns: '/var/run/netns/x' });
    r.save(record());
    expect(r.read('c0ffee', 'eth0')).toEqual({ containerID: 'c0ffee', ifname: 'eth0', record: record() });
    expect(r.read('c0ffee', 'eth1')).toBeUndefined();
    r.remove('c0ffee', 'eth0');
    r.remove('c0ffee', 'eth0');
    expect(r.list()).toEqual([]);
  });

  it('lists each attachment by the identity in its file name, even an interface name with @, / or %', () => {
    const r = new Records(scratch());
    for (const ifname of ['eth0', 'a@b', 'x/y', '100%']) r.save(record({ ifname }));
    r.save(record({ containerID: 'other', ifname: 'eth0' }));
    const listed = r.list().map((e) => `${e.containerID} ${e.ifname}`);
    expect(listed.sort()).toEqual(['c0ffee 100%', 'c0ffee a@b', 'c0ffee eth0', 'c0ffee x/y', 'other eth0']);
    expect(readdirSync(r.dir)).toContain('c0ffee@x%2Fy.json');
  });

  it('lists a torn or foreign file as an entry without a record, so its attachment can still be torn down', () => {
    const dir = scratch();
    const r = new Records(dir);
    const bad: Record<string, string> = {
      'torn@eth0.json': '{"v":1,"containerID":"torn"',
      'nul@eth0.json': 'null',
      'v2@eth0.json': JSON.stringify({ ...record(), v: 2 }),
      'noips@eth0.json': JSON.stringify({ ...record(), ips: '10.5.1.2/24' }),
      'noid@eth0.json': JSON.stringify({ ...record(), containerID: 7 }),
    };
    for (const [name, text] of Object.entries(bad)) writeFileSync(join(dir, name), text);
    expect(r.list().sort((a, b) => a.containerID.localeCompare(b.containerID))).toEqual(
      ['noid', 'noips', 'nul', 'torn', 'v2'].map((containerID) => ({ containerID, ifname: 'eth0', record: undefined })),
    );
    expect(r.read('torn', 'eth0')).toEqual({ containerID: 'torn', ifname: 'eth0', record: undefined });
  });

  it('skips files that are not records: other names, an undecodable interface, a missing directory', () => {
    const dir = scratch();
    for (const name of ['README', 'noat.json', 'x@%E0%A4%A.json', 'c@eth0.json.tmp']) writeFileSync(join(dir, name), '{}');
    mkdirSync(join(dir, 'sub@dir.json.d'));
    expect(new Records(dir).list()).toEqual([]);
    expect(new Records(join(dir, 'missing')).list()).toEqual([]);
  });
});

describe('networkState()', () => {
  it("keeps a network's records and addresses under its key, the default network's under its own", () => {
    const s = networkState({ dataDir: '/var/lib/weft', network: 'red' });
    expect([s.dir, s.records.dir]).toEqual(['/var/lib/weft/red', '/var/lib/weft/red/attachments']);
    const d = networkState({ dataDir: '/var/lib/weft', network: '' });
    expect(d.dir).not.toBe('/var/lib/weft/');
    expect(d.records.dir).toBe(join(d.dir, 'attachments'));
  });
});

describe('the masquerade marker', () => {
  it('says a script was applied only for the same boot and the same script', () => {
    const dataDir = scratch();
    const dir = networkState({ dataDir, network: 'red' }).dir;
    expect(masqueradeMarked(dir, 'boot-1', 'add table x')).toBe(false);
    markMasquerade(dir, 'boot-1', 'add table x\nadd rule x y z');
    expect(masqueradeMarked(dir, 'boot-1', 'add table x\nadd rule x y z')).toBe(true);
    expect(masqueradeMarked(dir, 'boot-1', 'add table x')).toBe(false);
    expect(masqueradeMarked(dir, 'boot-2', 'add table x\nadd rule x y z')).toBe(false);
  });

  it("lists this boot's scripts by network key, leaving out an earlier boot's and foreign files", () => {
    const dataDir = scratch();
    markMasquerade(join(dataDir, 'red'), 'boot-2', 'script red');
    markMasquerade(join(dataDir, 'blue'), 'boot-1', 'script blue');
    mkdirSync(join(dataDir, 'green'));
    writeFileSync(join(dataDir, 'green', 'masq.applied'), 'boot-2');
    writeFileSync(join(dataDir, 'stray'), 'x');
    expect(appliedMasquerades(dataDir, 'boot-2')).toEqual([{ key: 'red', script: 'script red' }]);
    expect(appliedMasquerades(join(dataDir, 'missing'), 'boot-2')).toEqual([]);
  });
});
