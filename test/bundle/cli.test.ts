/**
 * The executable's own answers, no host needed: the daemon's version and help as flanneld gives them.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../helpers/cni.ts';

const weft = (...args: string[]) => spawnSync(WEFT_BIN, args, { encoding: 'utf8', env: { PATH: process.env.PATH } });

describe('the CLI as it ships', () => {
  it('weft daemon -version and --version print the version alone, as flanneld does', () => {
    const version = /^weft (\S+) /.exec(weft('version').stdout)![1];
    for (const flag of ['-version', '--version']) expect(weft('daemon', flag)).toMatchObject({ status: 0, stdout: `v${version}\n` });
  });

  it('weft daemon --help describes every flag in one column', () => {
    const r = weft('daemon', '--help');
    expect(r.status).toBe(0);
    const flags = r.stdout.split('\n').filter((l) => l.startsWith('  --'));
    expect(flags.length).toBeGreaterThan(30);
    for (const l of flags) expect(l).toMatch(/^ {2}--[a-z0-9-]+ {2,}\S/);
    expect(r.stdout).toContain('--set-node-network-unavailable');
  });
});
