/**
 * `--format` as the Docker CLI reads it for lists and inspections: `table` (the default table), `table
 * TEMPLATE` (a header row, then columns aligned at tabs), `json` (one JSON object per line), or any other
 * TEMPLATE (one rendering per item). Pure.
 */
import { compileTemplate } from './template.ts';

/**
 * Go's tabwriter as the Docker CLI configures it (minimum cell width 10, padding 3): every cell that ends in
 * a tab is padded to its column's width; the last cell of a line is printed as it is.
 */
export function tabwrite(lines: readonly string[]): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) for (let c = 0; c < r.length - 1; c++) widths[c] = Math.max(widths[c] ?? 10, r[c]!.length + 3);
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]!) : cell))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export interface ListFormat<T> {
  /** The `table` template, e.g. `{{.ID}}\t{{.Name}}`. */
  readonly table: string;
  /** Each field's column header, e.g. ID -> NETWORK ID. */
  readonly headers: Readonly<Record<string, string>>;
  /** What `json` prints for an item (Docker prints its string-valued summary). */
  readonly json: (item: T) => unknown;
}

/** Renders `items` in `format` (undefined: the table). Throws TemplateError on a bad template. */
export function renderList<T>(items: readonly T[], format: string | undefined, spec: ListFormat<T>): string {
  const f = format?.trim() || 'table';
  if (f === 'json') return items.map((i) => `${JSON.stringify(spec.json(i))}\n`).join('');
  if (f === 'table' || f.startsWith('table ')) {
    const template = f === 'table' ? spec.table : f.slice('table '.length);
    const row = compileTemplate(template);
    // The header row is the same template over the headers, so its columns line up with the rows'.
    const header = row(spec.headers);
    return `${tabwrite([header, ...items.map((i) => row(i))])}\n`;
  }
  const one = compileTemplate(f);
  return items.map((i) => `${one(i)}\n`).join('');
}
