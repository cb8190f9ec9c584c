/**
 * The part of Go's text/template that scripts pass to `docker ... --format`: fields (`{{.Name}}`,
 * `{{.IPAM.Config}}`), `json`, `index`, `len`, `join`, `upper`, `lower`, `range`/`if`/`else`/`end`, and
 * `{{-`/`-}}` trimming; `\t` and `\n` in the text become a tab and a newline, as the Docker CLI does. Values
 * print as Go prints them (`[a b]`, `map[k:v]`, `<no value>`), so output matches Docker's byte for byte for
 * the same data. Hand-written because neither Go-template package on npm fits (checked December 2026):
 * @ctrl/golang-template is a TypeScript subset without `len`, `json`, `upper`/`lower` or Go's printing of
 * values; @evertdespiegeleer/go-template runs Go's own engine as 5 MB of WebAssembly behind one async
 * `parse(template, values)`, with no way to add the Docker CLI's functions (`json`, `upper`, `lower`, `join`
 * are Docker's, not Go's). This subset is under 200 lines.
 * Pure: parse once, then run over any number of values.
 */
import { WeftError } from '../errors/mod.ts';

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expr'; readonly expr: Expr }
  | { readonly kind: 'range' | 'if'; readonly expr: Expr; readonly body: Node[]; readonly alt: Node[] };

type Arg = { readonly kind: 'field'; readonly path: readonly string[] } | { readonly kind: 'string'; readonly value: string };
type Expr = { readonly fn: string | undefined; readonly args: readonly Arg[] };

const FUNCTIONS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  index: (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined),
  len: (v) => (Array.isArray(v) ? v.length : typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
};

export class TemplateError extends WeftError {
  constructor(template: string, why: string) {
    super('WEFT_INVALID_ARGUMENT', `template ${JSON.stringify(template)}: ${why}`);
  }
}

/** A value as Go's fmt prints it with %v. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

const truthy = (v: unknown) =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (typeof v === 'object' && FUNCTIONS.len!(v) === 0));

function parseArgs(template: string, words: readonly string[]): Arg[] {
  return words.map((w) => {
    if (w === '.') return { kind: 'field', path: [] };
    if (/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(w)) return { kind: 'field', path: w.slice(1).split('.') };
    if (/^"([^"\\]|\\.)*"$/.test(w)) return { kind: 'string', value: JSON.parse(w) as string };
    throw new TemplateError(template, `cannot read ${w} (expected .Field, . or a "string")`);
  });
}

function parseExpr(template: string, src: string): Expr {
  const words = src.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  if (words.length === 0) throw new TemplateError(template, 'empty action {{}}');
  const [head, ...rest] = words as [string, ...string[]];
  if (head in FUNCTIONS) {
    if (rest.length === 0) throw new TemplateError(template, `${head} needs an argument`);
    return { fn: head, args: parseArgs(template, rest) };
  }
  if (rest.length > 0) throw new TemplateError(template, `${head} is not a function (there are ${Object.keys(FUNCTIONS).join(', ')})`);
  return { fn: undefined, args: parseArgs(template, [head]) };
}

export function parseTemplate(template: string): Node[] {
  const text = template.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const tokens: Array<{ text: string } | { action: string }> = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open < 0) {
      tokens.push({ text: text.slice(at) });
      break;
    }
    const close = text.indexOf('}}', open);
    if (close < 0) throw new TemplateError(template, 'unclosed {{');
    let before = text.slice(at, open);
    let inner = text.slice(open + 2, close);
    if (inner.startsWith('-')) {
      before = before.trimEnd();
      inner = inner.slice(1);
    }
    let trimAfter = false;
    if (inner.endsWith('-')) {
      trimAfter = true;
      inner = inner.slice(0, -1);
    }
    if (before) tokens.push({ text: before });
    tokens.push({ action: inner.trim() });
    at = close + 2;
    if (trimAfter) while (at < text.length && /\s/.test(text[at]!)) at++;
  }
  let i = 0;
  const block = (inside: string | undefined): { nodes: Node[]; ended: 'end' | 'else' | undefined } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if ('text' in t) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const [word] = t.action.split(/\s+/, 1);
      if (word === 'end' || word === 'else') {
        if (inside === undefined) throw new TemplateError(template, `{{${word}}} without {{range}} or {{if}}`);
        return { nodes, ended: word };
      }
      if (word === 'range' || word === 'if') {
        const expr = parseExpr(template, t.action.slice(word.length));
        const body = block(word);
        const alt = body.ended === 'else' ? block(word) : { nodes: [], ended: 'end' as const };
        if (alt.ended !== 'end') throw new TemplateError(template, `{{${word}}} has no {{end}}`);
        nodes.push({ kind: word, expr, body: body.nodes, alt: alt.nodes });
        continue;
      }
      nodes.push({ kind: 'expr', expr: parseExpr(template, t.action) });
    }
    if (inside !== undefined) throw new TemplateError(template, `{{${inside}}} has no {{end}}`);
    return { nodes, ended: undefined };
  };
  return block(undefined).nodes;
}

function field(template: string, dot: unknown, path: readonly string[]): unknown {
  let v = dot;
  for (const name of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(name in v)) {
      const known = v && typeof v === 'object' && !Array.isArray(v) ? ` (there are ${Object.keys(v).join(', ')})` : '';
      throw new TemplateError(template, `no field ${name}${known}`);
    }
    v = (v as Record<string, unknown>)[name];
  }
  return v;
}

function evaluate(template: string, e: Expr, dot: unknown): unknown {
  const args = e.args.map((a) => (a.kind === 'string' ? a.value : field(template, dot, a.path)));
  return e.fn === undefined ? args[0] : FUNCTIONS[e.fn]!(...args);
}

function run(template: string, nodes: readonly Node[], dot: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') out += goString(evaluate(template, n.expr, dot));
    else {
      const v = evaluate(template, n.expr, dot);
      if (n.kind === 'if') out += run(template, truthy(v) ? n.body : n.alt, dot);
      else {
        const items = Array.isArray(v)
          ? v
          : v && typeof v === 'object'
            ? Object.keys(v)
                .sort()
                .map((k) => (v as Record<string, unknown>)[k])
            : [];
        out += items.length > 0 ? items.map((item) => run(template, n.body, item)).join('') : run(template, n.alt, dot);
      }
    }
  }
  return out;
}

/** Parses `template` once; the function renders one value. */
export function compileTemplate(template: string): (value: unknown) => string {
  const nodes = parseTemplate(template);
  return (value) => run(template, nodes, value);
}
