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

  it('weft completion prints a bash or zsh script whose completions come from the executable', () => {
    expect(weft('completion', 'bash').stdout).toMatch(
      /^###-begin-weft-completions-###[\s\S]*complete -o bashdefault -o default -F _weft_yargs_completions weft/m,
    );
    expect(weft('completion', 'zsh').stdout).toMatch(/^#compdef weft\n/);
    expect(weft('--get-yargs-completions', 'network', '').stdout.split('\n')).toEqual(
      expect.arrayContaining(['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect']),
    );
  });

  it('weft man prints a manual page with every command, which man renders', () => {
    const page = weft('man');
    expect(page.status).toBe(0);
    expect(page.stdout).toMatch(/^\.TH WEFT 8 /);
    for (const c of ['daemon', 'network create', 'network ls', 'status', 'doctor', 'install', 'uninstall', 'lab', 'version'])
      expect(page.stdout).toContain(`.SS weft ${c}\n`);
    const rendered = spawnSync('man', ['-l', '-'], {
      input: page.stdout,
      encoding: 'utf8',
      env: { ...process.env, MANPAGER: 'cat', COLUMNS: '100' },
    });
    // Inside the verbatim blocks no line may read as a roff request, and no backslash may stay unescaped.
    const verbatim = [...page.stdout.matchAll(/^\.nf\n([\s\S]*?)\n\.fi$/gm)].flatMap((m) => m[1]!.split('\n'));
    expect(verbatim.length).toBeGreaterThan(200);
    expect(verbatim.filter((l) => /^[.']/.test(l) || /\\(?![e&])/.test(l))).toEqual([]);
    // Rendered by man where it is installed.
    if (rendered.error === undefined && rendered.status === 0) expect(rendered.stdout).toContain('weft network prune');
  });
});
