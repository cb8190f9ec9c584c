/**
 * The single executable's first run unpacks its assets into the user's cache: concurrent first runs (a
 * runtime starting many containers at once on a fresh node) all succeed and leave one complete copy, and
 * a cache directory that another user could have planted is refused.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../helpers/cni.ts';
import { defer } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';

const NOBODY = 65534;
const VERSION_CONF = '{"cniVersion":"1.0.0","name":"x","type":"weft"}';

function asNobody(cache: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', WEFT_BIN], {
    env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, CNI_COMMAND: 'VERSION' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(VERSION_CONF);
  return new Promise((r) => child.on('close', (code) => r({ code, stdout, stderr })));
}

describe("the single executable's asset cache", () => {
  it('twenty concurrent first runs all answer, leaving one complete unpacked copy', async () => {
    const cache = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}cache-`));
    defer(() => rmSync(cache, { recursive: true, force: true }));
    chmodSync(cache, 0o755);
    chownSync(cache, NOBODY, NOBODY);
    const runs = await Promise.all(Array.from({ length: 20 }, () => asNobody(cache)));
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('"supportedVersions"') });
    const entries = readdirSync(join(cache, 'weft'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^sea-[0-9a-f]{16}$/);
    expect(readdirSync(join(cache, 'weft', entries[0]!)).sort()).toEqual(
      expect.arrayContaining(['.complete', 'koffi.node', 'netlink.node', 'weft-cni.cjs', 'weft.mjs']),
    );
  });

  it('refuses a cache directory others can write', () => {
    const cache = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}cache-`));
    defer(() => rmSync(cache, { recursive: true, force: true }));
    chmodSync(cache, 0o755);
    mkdirSync(join(cache, 'weft'), { mode: 0o777 });
    chmodSync(join(cache, 'weft'), 0o777);
    chownSync(cache, NOBODY, NOBODY);
    chownSync(join(cache, 'weft'), NOBODY, NOBODY);
    const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', WEFT_BIN, 'version'], {
      env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe(
      `weft: ${join(cache, 'weft')} is not a directory of this user that only it can write; refusing to unpack there\n`,
    );
  });
});
