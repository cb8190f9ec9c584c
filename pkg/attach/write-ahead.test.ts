import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { networkState } from '../contract/mod.ts';
import { writeAhead } from './write-ahead.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-unit-wal-'));
  dirs.push(dataDir);
  const state = networkState({ dataDir, network: 'RED' });
  const record = {
    cniNetwork: 'RED',
    network: 'RED',
    containerID: 'c1',
    ifname: 'eth0',
    netns: '/run/netns/c1',
    hostVeth: 'veth00000001',
    bridge: 'weft-RED',
    bootId: 'b1',
    ips: [],
  };
  return { state, w: { state, record, exists: 'c1 has eth0 already' } };
}

describe('writeAhead()', () => {
  it('creates the record `adding` before the steps, keeps what they save, and ends `added` with what they return', async () => {
    const { state, w } = setup();
    const value = await writeAhead(w, async (a) => {
      expect(state.records.read('c1', 'eth0')?.record).toMatchObject({ v: 1, state: 'adding', ips: [] });
      a.save({ ...a.record, ips: ['10.40.0.2/24'] });
      expect(state.records.read('c1', 'eth0')?.record).toMatchObject({ state: 'adding', ips: ['10.40.0.2/24'] });
      return { value: 42, added: { mac: '02:42:0a:28:00:02' } };
    });
    expect(value).toBe(42);
    expect(state.records.read('c1', 'eth0')?.record).toMatchObject({ state: 'added', ips: ['10.40.0.2/24'], mac: '02:42:0a:28:00:02' });
  });

  it('refuses an attachment that has a record, and touches nothing', async () => {
    const { w } = setup();
    await writeAhead(w, async () => ({ value: undefined }));
    let ran = false;
    await expect(
      writeAhead(w, async () => {
        ran = true;
        return { value: undefined };
      }),
    ).rejects.toMatchObject({ code: 'WEFT_ALREADY_EXISTS', message: 'c1 has eth0 already' });
    expect(ran).toBe(false);
  });

  it("on an error, undoes every step in reverse, removes the record last, and throws the step's error", async () => {
    const { state, w } = setup();
    const undone: string[] = [];
    await expect(
      writeAhead(w, async ({ undo }) => {
        undo.push('first', () => undone.push(`first (record there: ${state.records.read('c1', 'eth0') !== undefined})`));
        undo.push('second', () => {
          undone.push('second');
          throw new Error('cannot');
        });
        throw new Error('the kernel said no');
      }),
    ).rejects.toThrow('the kernel said no');
    expect(undone).toEqual(['second', 'first (record there: true)']);
    expect(state.records.read('c1', 'eth0')).toBeUndefined();
  });
});
