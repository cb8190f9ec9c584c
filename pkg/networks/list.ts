/**
 * `weft network ls` as `docker network ls` prints it: the rows the daemon lists, Docker's filters
 * (`--filter key=value`, repeatable: values of one key are alternatives, different keys must all match) and
 * the fields its `--format` templates and `json` know, plus `Subnet`. Pure.
 */
import { WeftError } from '../errors/mod.ts';
import type { ListFormat } from '../template/mod.ts';
import { familyOf } from '../netaddr/family.ts';

/** A network as the daemon lists it. */
export interface LsRow {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly scope: string;
  readonly subnet: string;
  /** A dual-stack network's IPv6 range. */
  readonly subnet6?: string;
  /** ISO 8601; empty when unknown (the flannel default network). */
  readonly created: string;
}

/** What `--format` sees of a row: Docker's field names, all strings, as its CLI passes them. */
export interface LsView {
  readonly ID: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly Subnet: string;
  readonly IPv6: string;
  readonly Internal: string;
  readonly Labels: string;
  readonly CreatedAt: string;
}

/** Docker's time format (Go's time.Time String()): `2026-11-30 02:07:45.123000000 +0000 UTC`. */
export function goTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(9, '0').slice(0, 9)} +0000 UTC` : iso;
}

export function lsView(r: LsRow, noTrunc: boolean): LsView {
  return {
    ID: noTrunc ? r.id : r.id.slice(0, 12),
    Name: r.name,
    Driver: r.driver,
    Scope: r.scope,
    Subnet: r.subnet6 ? `${r.subnet},${r.subnet6}` : r.subnet,
    IPv6: r.subnet6 || familyOf(r.subnet) === 6 ? 'true' : 'false',

    Internal: 'false',
    Labels: '',
    CreatedAt: goTime(r.created),
  };
}

const FILTERS: Record<string, (r: LsRow, v: string) => boolean> = {
  // Docker matches name and id on any part of them.
  name: (r, v) => r.name.includes(v),
  id: (r, v) => r.id.includes(v),
  driver: (r, v) => r.driver === v,
  scope: (r, v) => r.scope === v,
};

/** Parses `--filter` arguments; refused (before anything is listed) with the keys there are. */
export function parseFilters(args: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of args) {
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (eq < 0 || !(key in FILTERS))
      throw new WeftError(
        'WEFT_INVALID_ARGUMENT',
        eq < 0
          ? `bad format of filter (expected name=value): ${a}`
          : `invalid filter '${key}' (there are ${Object.keys(FILTERS).join(', ')})`,
      );
    out.set(key, [...(out.get(key) ?? []), a.slice(eq + 1)]);
  }
  return out;
}

export function filterRows(rows: readonly LsRow[], filters: ReadonlyMap<string, readonly string[]>): LsRow[] {
  return rows.filter((r) => [...filters].every(([key, values]) => values.some((v) => FILTERS[key]!(r, v))));
}

export const LS_FORMAT: ListFormat<LsView> = {
  table: '{{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}',
  headers: {
    ID: 'NETWORK ID',
    Name: 'NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Subnet: 'SUBNET',
    IPv6: 'IPV6',
    Internal: 'INTERNAL',
    Labels: 'LABELS',
    CreatedAt: 'CREATED AT',
  },
  // Docker prints the summary's fields in alphabetical order.
  json: (v) => Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))),
};
