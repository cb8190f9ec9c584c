import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExclusive, listDir, writeFileAtomic } from './files.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('state files', () => {
  it('createExclusive claims a name once, with its content, and leaves no temporary file', () => {
    const d = mkdtempSync(join(tmpdir(), 'weft-files-'));
    dirs.push(d);
    expect(createExclusive(join(d, 'sub', '10.0.0.2'), 'owner-a', 0o600)).toBe(true);
    expect(createExclusive(join(d, 'sub', '10.0.0.2'), 'owner-b', 0o600)).toBe(false);
    expect(readFileSync(join(d, 'sub', '10.0.0.2'), 'utf8')).toBe('owner-a');
    writeFileAtomic(join(d, 'sub', 'x'), 'one');
    writeFileAtomic(join(d, 'sub', 'x'), 'two');
    expect(readFileSync(join(d, 'sub', 'x'), 'utf8')).toBe('two');
    expect(readdirSync(join(d, 'sub')).sort()).toEqual(['10.0.0.2', 'x']);
    expect(listDir(join(d, 'sub')).sort()).toEqual(['10.0.0.2', 'x']);
  });
});
