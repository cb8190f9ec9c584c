/**
 * `weft network ls` and `inspect`, with the options scripts written for `docker network` pass: `--format`
 * (table, json, a Go template), `--filter`, `-q`, `--no-trunc`; `inspect` of several networks prints those it
 * finds and names the others on stderr, exit status 1, as Docker does.
 */
import { daemonCall } from '../../../pkg/contract/mod.ts';
import { filterRows, LS_FORMAT, lsView, parseFilters, type LsRow } from '../../../pkg/networks/mod.ts';
import { messageOf } from '../../../pkg/errors/mod.ts';
import { compileTemplate, renderList } from '../../../pkg/template/mod.ts';

const write = (text: string) => process.stdout.write(text);

export async function listNetworks(a: {
  socket: string;
  format: string | undefined;
  filter: readonly string[];
  quiet: boolean | undefined;
  trunc: boolean;
}): Promise<void> {
  // Bad filters and templates are refused before the daemon is asked anything.
  const filters = parseFilters(a.filter);
  if (a.format && a.format !== 'json' && a.format !== 'table') compileTemplate(a.format.replace(/^table /, ''));
  const rows = filterRows(await daemonCall<LsRow[]>(a.socket, 'GET', '/v1/networks'), filters);
  const views = rows.map((r) => lsView(r, !a.trunc));
  write(a.quiet ? views.map((v) => `${v.ID}\n`).join('') : renderList(views, a.format, LS_FORMAT));
}

export async function inspectNetworks(a: { socket: string; format: string | undefined; networks: readonly string[] }): Promise<void> {
  const render = a.format && a.format !== 'json' ? compileTemplate(a.format) : undefined;
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const n of a.networks) {
    try {
      found.push(...(await daemonCall<unknown[]>(a.socket, 'GET', `/v1/networks/${encodeURIComponent(n)}`)));
    } catch (e) {
      if ((e as { code?: string }).code !== 'WEFT_NOT_FOUND') throw e;
      missing.push(messageOf(e));
    }
  }
  if (render) write(found.map((v) => `${render(v)}\n`).join(''));
  else if (a.format === 'json') write(found.map((v) => `${JSON.stringify(v)}\n`).join(''));
  else write(`${JSON.stringify(found, null, 4)}\n`);
  if (missing.length > 0) {
    for (const m of missing) process.stderr.write(`weft: ${m}\n`);
    process.exitCode = 1;
  }
}
