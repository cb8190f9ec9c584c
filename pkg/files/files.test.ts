import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExclusive, listDir, overwriteInPlace, writeFileAtomic } from './files.ts';

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

  it('overwriteInPlace keeps the file (same inode), shorter or longer content', () => {
    const d = mkdtempSync(join(tmpdir(), 'weft-files-'));
    dirs.push(d);
    const f = join(d, 'sub', 'last_reserved_ip.0');
    overwriteInPlace(f, '10.244.1.19', 0o600);
    const inode = statSync(f).ino;
    overwriteInPlace(f, '10.244.1.2', 0o600);
    expect(readFileSync(f, 'utf8')).toBe('10.244.1.2');
    overwriteInPlace(f, '10.244.1.200', 0o600);
    expect(readFileSync(f, 'utf8')).toBe('10.244.1.200');
    expect(statSync(f).ino).toBe(inode);
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('files are born with their mode: a 0600 file replaces a 0644 one, and is never 0644 on the way (issue 25)', () => {
    const d = mkdtempSync(join(tmpdir(), 'weft-files-'));
    dirs.push(d);
    const f = join(d, 'status.json');
    writeFileSync(f, 'old', { mode: 0o644 });
    writeFileAtomic(f, 'new', 0o600);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(createExclusive(join(d, 'claim'), 'x', 0o600)).toBe(true);
    expect(statSync(join(d, 'claim')).mode & 0o777).toBe(0o600);
  });

  it('overwriteInPlace takes away bits an existing file has beyond its mode, and adds none', () => {
    const d = mkdtempSync(join(tmpdir(), 'weft-files-'));
    dirs.push(d);
    const f = join(d, 'hint');
    writeFileSync(f, 'old');
    chmodSync(f, 0o644);
    overwriteInPlace(f, 'new', 0o600);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    chmodSync(f, 0o400);
    overwriteInPlace(f, 'newer', 0o600);
    expect(statSync(f).mode & 0o777).toBe(0o400);
  });
});
