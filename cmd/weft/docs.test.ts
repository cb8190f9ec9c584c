/**
 * The commands the docs show must not rot (issue 27). Every `weft ...` line in a ```sh block of README.md,
 * CONTRIBUTING.md and docs/*.md is handed to the CLI's own parser (yargs, or the daemon's flanneld-style flag
 * parser) and must be accepted: a known command, known flags, required arguments and valid values. Nothing is
 * run: a middleware that every command passes through after validation stops the parse before any handler.
 * Every `npm run X` must name a script of package.json.
 *
 * Synopsis notation is read as a person reads it: `[...]` parts are all included at once, `...` is dropped,
 * and `ls|list` is checked once per alternative; so placeholders of numeric options take example values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { parser } from './cli.ts';

const root = new URL('../..', import.meta.url).pathname;
const docs = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(root, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : []))];
const scripts = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts);

interface Shown {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The lines of the ```sh blocks (continuations joined), and every problem with the blocks themselves. */
function shellLines(file: string): { lines: Shown[]; problems: string[] } {
  const lines: Shown[] = [];
  const problems: string[] = [];
  let fence: string | undefined;
  let pending: Shown | undefined;
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const open = /^\s*```(\S*)/.exec(raw);
      if (open) {
        if (fence === undefined && open[1] === '') problems.push(`${file}:${i + 1}: a fenced block without a language (sh, text, ...)`);
        fence = fence === undefined ? open[1] : undefined;
        return;
      }
      if (fence === undefined) {
        // An indented code block would escape this test: commands go in ```sh blocks.
        if (/^ {4,}(\S+# )?(\S*\/)?(weft|npm) /.test(raw)) problems.push(`${file}:${i + 1}: a command outside a \`\`\`sh block`);
        return;
      }
      if (!['sh', 'bash', 'shell'].includes(fence)) return;
      const text = stripComment(raw).trim();
      const joined: Shown = pending ? { ...pending, text: `${pending.text} ${text}` } : { file, line: i + 1, text };
      const more = /(\\|\||&&)$/.test(joined.text);
      pending = more ? { ...joined, text: joined.text.replace(/\\$/, '').trimEnd() } : undefined;
      if (!more && joined.text !== '') lines.push(joined);
    });
  return { lines, problems };
}

/** A line without its `# comment` (a # that starts a word, outside quotes). */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) quote = c === quote ? '' : quote;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/**
 * Shell words of one line, split into the commands of a `&&`, `||`, `;` or `|` list; quotes removed, `$(...)`
 * kept whole, redirections dropped. A bare `a|b` inside a word stays (synopsis alternatives).
 */
function commandsOf(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote = '';
  let depth = 0;
  let redirect = false;
  const end = () => {
    if (word !== undefined && !redirect) commands.at(-1)!.push(word);
    else if (word !== undefined) redirect = false;
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '$' && line[i + 1] === '(') {
      depth++;
      word = `${word ?? ''}$(`;
      i++;
    } else if (depth > 0) {
      if (c === ')') depth--;
      word = (word ?? '') + c;
    } else if (/\s/.test(c)) end();
    else if (c === '>') {
      end();
      if (line[i + 1] === '>') i++;
      redirect = true;
    } else if (c === ';' || c === '&' || (c === '|' && (word === undefined || /\s|\|/.test(line[i + 1] ?? ' ')))) {
      end();
      if (line[i + 1] === c) i++;
      commands.push([]);
    } else word = (word ?? '') + c;
  }
  end();
  return commands.filter((c) => c.length > 0);
}

/** A synopsis as the command lines it stands for: brackets opened, `...` dropped, one line per alternative. */
function expand(words: readonly string[]): string[][] {
  let lines: string[][] = [[]];
  for (const w of words) {
    const bare = w
      .replace(/^\[+/, '')
      .replace(/\]+$/, '')
      .replace(/\.\.\.$/, '');
    if (bare === '') continue;
    const alternatives = /^[a-z]+(\|[a-z]+)+$/.test(bare) ? bare.split('|') : [bare];
    lines = lines.flatMap((l) => alternatives.map((a) => [...l, a]));
  }
  return lines;
}

class Accepted extends Error {}

/** Why the CLI would refuse `args` (the words after `weft`), or undefined when it accepts them. */
async function refusal(args: readonly string[]): Promise<string | undefined> {
  if (args[0] === 'daemon') {
    const r = parseDaemonFlags(args.slice(1), {});
    return 'ok' in r && !r.ok ? r.reason : undefined;
  }
  if (args[0] === 'man') return args.length === 1 ? undefined : 'weft man takes no arguments';
  if (args[0] === 'completion')
    return args.length <= 2 && ['bash', 'zsh', undefined].includes(args[1]) ? undefined : 'weft completion [bash|zsh]';
  const y = (await parser(args)).exitProcess(false).middleware(() => {
    throw new Accepted();
  }, false);
  try {
    await y.parseAsync();
    return 'the parser reached no command';
  } catch (e) {
    return e instanceof Accepted ? undefined : (e as Error).message;
  }
}

/** Every problem with the commands one doc file shows. */
async function problemsOf(file: string): Promise<string[]> {
  const { lines, problems } = shellLines(file);
  for (const shown of lines) {
    for (const words of commandsOf(shown.text.replace(/^\S+# /, ''))) {
      const env = words.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
      // With CNI_COMMAND set the executable is the CNI plugin, which reads no arguments.
      if (env < 0 || words.slice(0, env).some((w) => w.startsWith('CNI_COMMAND='))) continue;
      const [program, ...args] = words.slice(env);
      const where = `${shown.file}:${shown.line}: ${shown.text}`;
      if (program === 'npm') {
        const script = args[0] === 'test' ? 'test' : args[0] === 'run' ? args.slice(1).find((a) => !a.startsWith('-')) : undefined;
        if (args[0] === 'run' && !scripts.includes(script ?? '')) problems.push(`${where}: no script "${script}" in package.json`);
      } else if (program === 'weft' || program!.endsWith('/weft')) {
        for (const line of expand(args)) {
          const why = await refusal(line);
          if (why !== undefined) problems.push(`${where}: weft ${line.join(' ')}: ${why}`);
        }
      }
    }
  }
  return problems;
}

describe('the commands the docs show (issue 27)', () => {
  it.each(docs)('%s: every weft command parses and every npm script exists', async (file) => {
    expect(await problemsOf(file)).toEqual([]);
  });

  it('the docs show commands at all (the extraction is not silently empty)', () => {
    const all = docs.flatMap((f) => shellLines(f).lines).filter((l) => /(^|\s|# |\/)weft /.test(l.text));
    expect(all.length).toBeGreaterThan(30);
  });

  it('refuses an unknown flag, a missing argument, a bad value and an unknown script', async () => {
    const bad = async (line: string) => (await Promise.all(commandsOf(line).map((w) => refusal(w.slice(1))))).join();
    expect(await bad('weft network ls --no-such-flag')).toMatch(/Unknown argument/);
    expect(await bad('weft network create RED')).toMatch(/subnet/);
    expect(await bad('weft network create --subnet 10.1.0.0/24 --vni N RED')).toMatch(/whole number/);
    expect(await bad('weft daemon --no-such-flag')).toMatch(/unknown flag/);
    expect(await bad('weft lab sideways')).toMatch(/lab command/);
    expect(await bad('weft network inspect -f "{{.Id}}" RED && weft status -v')).toBe(',');
    expect(scripts).not.toContain('no-such-script');
  });

  it('reads shell lines as a shell does: quotes, $(...), lists, comments, synopses', () => {
    expect(commandsOf(`h1# weft network connect RED --netns "$(docker inspect -f '{{.X}}' w)" --name w`)).toEqual([
      ['h1#', 'weft', 'network', 'connect', 'RED', '--netns', "$(docker inspect -f '{{.X}}' w)", '--name', 'w'],
    ]);
    expect(commandsOf('a x && weft man > /tmp/weft.8; b | c')).toEqual([['a', 'x'], ['weft', 'man'], ['b'], ['c']]);
    expect(stripComment("weft x -f '{{# y}}' # a comment")).toBe("weft x -f '{{# y}}' ");
    expect(expand(['network', 'ls|list', '[-q]', '[--filter', 'KEY=VALUE', '...]'])).toEqual([
      ['network', 'ls', '-q', '--filter', 'KEY=VALUE'],
      ['network', 'list', '-q', '--filter', 'KEY=VALUE'],
    ]);
  });
});
