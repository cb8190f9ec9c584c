import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ownerOf } from '../ipam/mod.ts';
import { KernelError, type Link } from '../kernel/mod.ts';
import { stderrLog } from '../log/stderr.ts';
import { hostVethName } from '../networks/names.ts';
import { record } from './testing/record.ts';
import { networkState, type NetworkState } from './state.ts';
import { reclaimPreviousBoot, teardown, type LinkRemover } from './teardown.ts';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function state(network = 'red'): NetworkState {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-teardown-'));
  dirs.push(dataDir);
  return networkState({ dataDir, network });
}

/** Host links by name; deleting one removes it, or fails as `deleteFails` says. */
class Links implements LinkRemover {
  readonly links = new Map<string, Pick<Link, 'index' | 'kind'>>();
  readonly deleted: number[] = [];
  deleteFails: unknown;

  async findLink(ref: string | number): Promise<Link | undefined> {
    const l = typeof ref === 'string' ? this.links.get(ref) : undefined;
    return l && ({ ...l, name: ref } as unknown as Link);
  }

  async deleteLink(ref: string | number): Promise<void> {
    if (this.deleteFails) throw this.deleteFails;
    this.deleted.push(ref as number);
    for (const [name, l] of this.links) if (l.index === ref) this.links.delete(name);
  }
}

describe('teardown()', () => {
  it('deletes the host veth, releases the recorded addresses and removes the record, last', async () => {
    const s = state();
    const host = new Links();
    host.links.set('veth0123abcd', { index: 7, kind: 'veth' });
    s.records.save(record({ ips: ['10.5.1.2/24', 'fd00::2/64'] }));
    const owner = ownerOf('c0ffee', 'eth0');
    s.addresses.reserve('10.5.1.2', owner);
    s.addresses.reserve('fd00::2', owner);
    s.addresses.reserve('10.5.1.3', ownerOf('other', 'eth0'));
    await teardown(s, s.records.read('c0ffee', 'eth0')!, host);
    expect(host.deleted).toEqual([7]);
    expect([...s.addresses.reservations().keys()]).toEqual(['10.5.1.3']);
    expect(s.records.list()).toEqual([]);
  });

  it('releases what the owner holds when the record is still `adding` (the ADD may have reserved before saving)', async () => {
    const s = state();
    s.records.save(record({ state: 'adding', ips: [] }));
    s.addresses.reserve('10.5.1.9', ownerOf('c0ffee', 'eth0'));
    await teardown(s, s.records.read('c0ffee', 'eth0')!, new Links());
    expect(s.addresses.reservations().size).toBe(0);
    expect(s.records.list()).toEqual([]);
  });

  it('tears down an attachment whose record is unreadable, by the veth name its identity gives', async () => {
    const s = state();
    const host = new Links();
    host.links.set(hostVethName('red', 'dead', 'eth1'), { index: 11, kind: 'veth' });
    s.addresses.reserve('10.5.1.4', ownerOf('dead', 'eth1'));
    await teardown(s, { containerID: 'dead', ifname: 'eth1', record: undefined }, host, 'red');
    expect(host.deleted).toEqual([11]);
    expect(s.addresses.reservations().size).toBe(0);
  });

  it('leaves a link of that name alone unless it is a veth, and takes a veth already gone as done', async () => {
    const s = state();
    const host = new Links();
    host.links.set('veth0123abcd', { index: 3, kind: 'bridge' });
    s.records.save(record());
    await teardown(s, s.records.read('c0ffee', 'eth0')!, host);
    expect(host.deleted).toEqual([]);

    host.links.set('veth0123abcd', { index: 4, kind: 'veth' });
    host.deleteFails = new KernelError('delete', 'link 4', 19);
    s.records.save(record());
    await teardown(s, s.records.read('c0ffee', 'eth0')!, host);
    expect(s.records.list()).toEqual([]);
  });

  it('keeps the record when the veth cannot be deleted, so the next teardown repeats it', async () => {
    const s = state();
    const host = new Links();
    host.links.set('veth0123abcd', { index: 4, kind: 'veth' });
    host.deleteFails = new KernelError('delete', 'link 4', 1);
    s.records.save(record());
    s.addresses.reserve('10.5.1.2', ownerOf('c0ffee', 'eth0'));
    await expect(teardown(s, s.records.read('c0ffee', 'eth0')!, host)).rejects.toMatchObject({ code: 'WEFT_KERNEL' });
    expect(s.records.list()).toHaveLength(1);
    expect(s.addresses.reservations().size).toBe(1);
  });

  it('marks a named attachment `removing` before asking the daemon to remove its name', async () => {
    const s = state();
    s.records.save(record({ endpoint: { name: 'web', aliases: [], mac: '02:00:00:00:00:01' } }));
    const seen: Array<{ url: string | undefined; state: string | undefined }> = [];
    const socket = join(s.dir, '..', 'api.sock');
    await new Promise<void>((done) => {
      const srv = createServer((req, res) => {
        seen.push({ url: req.url, state: s.records.read('c0ffee', 'eth0')?.record?.state });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }).listen(socket, done);
      servers.push(srv);
    });
    await teardown(s, s.records.read('c0ffee', 'eth0')!, new Links(), 'red', socket);
    expect(seen).toEqual([{ url: '/v1/networks/red/endpoints/web?containerID=c0ffee', state: 'removing' }]);
    expect(s.records.list()).toEqual([]);
  });

  it('goes on when the daemon cannot be reached: the daemon removes the name when it next reconciles', async () => {
    const s = state();
    const warn = vi.spyOn(stderrLog, 'warn').mockImplementation(() => {});
    s.records.save(record({ endpoint: { name: 'web', aliases: [], mac: '02:00:00:00:00:01' } }));
    await teardown(s, s.records.read('c0ffee', 'eth0')!, new Links(), 'red', join(s.dir, 'none.sock'));
    expect(s.records.list()).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/the name record of web on red will be removed by the daemon later$/));
  });
});

describe('reclaimPreviousBoot()', () => {
  it("tears down only an earlier boot's attachments, saying what each held", async () => {
    const s = state();
    s.records.save(record({ containerID: 'old', bootId: 'boot-0', hostVeth: 'vethold' }));
    s.records.save(record({ containerID: 'now', bootId: 'boot-1', hostVeth: 'vethnow' }));
    s.addresses.reserve('10.5.1.2', ownerOf('old', 'eth0'));
    s.addresses.reserve('10.5.1.3', ownerOf('now', 'eth0'));
    const said: string[] = [];
    expect(await reclaimPreviousBoot(s, new Links(), 'boot-1', (m) => said.push(m))).toBe(1);
    expect(s.records.list().map((e) => e.containerID)).toEqual(['now']);
    expect([...s.addresses.reservations().keys()]).toEqual(['10.5.1.3']);
    expect(said).toEqual(['reclaiming 10.5.1.2/24 from container old (eth0), attached before the last reboot']);
  });

  it('leaves an unreadable record alone: which boot it is from is unknown', async () => {
    const s = state();
    s.records.save(record());
    writeFileSync(join(s.records.dir, 'torn@eth0.json'), '{');
    expect(await reclaimPreviousBoot(s, new Links(), 'boot-2', () => {})).toBe(1);
    expect(s.records.list().map((e) => e.containerID)).toEqual(['torn']);
  });
});
