/**
 * `weft status` for people: a short aligned block from the daemon's status document. Pure, so the wording is
 * unit-tested; `--json` prints the document itself.
 */
import type { DaemonStatus } from '../../pkg/contract/status.ts';
import { table } from '../../pkg/measure/mod.ts';

/** 3725 -> "1h 2m"; 75 -> "1m 15s". */
export function duration(seconds: number): string {
  // Down, never up: a lease granted for 24 h half a second ago expires in 23h 59m, not in 1d 0h.
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const ago = (iso: string | undefined, now: number): string => (iso ? `${duration((now - Date.parse(iso)) / 1000)} ago` : 'never');

function storeLine(d: DaemonStatus, now: number): string {
  if (d.store.kind === 'kubernetes') return `kubernetes  ${d.store.server ?? '?'}`;
  const eps = (d.store.endpoints ?? []).map((e) => {
    const notes = [
      e.current ? 'in use' : undefined,
      e.latencyMs !== undefined ? `${e.latencyMs} ms` : undefined,
      e.lastError && (!e.lastOkAt || (e.lastErrorAt ?? '') > e.lastOkAt) ? `failing: ${e.lastError}` : undefined,
    ].filter(Boolean);
    return `${e.endpoint}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
  });
  const lastOk = d.store.endpoints
    ?.map((e) => e.lastOkAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  return `etcd        ${eps.join('; ')}${lastOk ? `; last answer ${ago(lastOk, now)}` : ''}`;
}

function dockerLine(k: NonNullable<DaemonStatus['docker']>, now: number): string {
  const engine = k.error
    ? `dockerd at ${k.engine} FAILING: ${k.error}${k.lastOkAt ? ` (last answer ${ago(k.lastOkAt, now)})` : ''}`
    : `dockerd at ${k.engine}, answered ${ago(k.lastOkAt, now)}`;
  const nets = k.networks.length > 0 ? `networks ${k.networks.join(', ')}` : 'no weft network in Docker yet';
  return `docker      plugin ${k.pluginSocket}; ${engine}; ${nets}${k.resolver ? `; DNS for containers on ${k.resolver}` : ''}`;
}

export function statusText(d: DaemonStatus, verbose: boolean, now = Date.now()): string {
  const lines = [`weft ${d.version} on ${d.node}, up ${duration(d.uptimeSeconds)}`, storeLine(d, now), ''];
  const rows = [['network', 'VNI', 'subnet', 'lease expires', 'device', 'MTU', 'peers', 'ready', 'last reconcile']];
  for (const n of d.networks) {
    const r = n.lastReconcile;
    rows.push([
      n.name,
      String(n.vni ?? '-'),
      [n.subnet ?? '-', ...(n.subnet6 ? [n.subnet6] : [])].join(', '),
      n.leaseExpires ? `in ${duration((Date.parse(n.leaseExpires) - now) / 1000)}` : n.subnet ? 'never' : '-',
      [n.device ?? '-', ...(n.device6 ? [n.device6] : [])].join(', '),
      String(n.mtu ?? '-'),
      String(n.peers.count),
      n.ready ? 'yes' : 'NO',
      r ? `${ago(r.at, now)}, ${r.ms} ms, ${r.repairs.length} repaired (${n.repairs} since start)` : '-',
    ]);
  }
  lines.push(d.networks.length > 0 ? table(rows) : 'no network yet');
  if (d.docker) lines.push('', dockerLine(d.docker, now));
  for (const n of d.networks) if (!n.ready) lines.push(`${n.name}: not ready: ${n.reason ?? 'starting'}`);
  for (const n of d.networks)
    for (const c of n.conflicts ?? [])
      lines.push(`${n.name}: lease conflict: ${c.key} (host ${c.publicIP}) claims addresses of ${c.with}; not programmed`);
  for (const n of d.networks) for (const rep of n.lastReconcile?.repairs ?? []) lines.push(`${n.name}: repaired: ${rep}`);
  if (verbose) {
    for (const n of d.networks) {
      if (!n.peers.list || n.peers.list.length === 0) continue;
      lines.push(
        '',
        `peers of ${n.name}`,
        table([
          ['subnet', 'public IP', 'VTEP MAC', ...(n.subnet6 ? ['IPv6 subnet', 'public IPv6'] : [])],
          ...n.peers.list.map((p) => [p.subnet, p.publicIP, p.vtepMac, ...(n.subnet6 ? [p.subnet6 ?? '-', p.publicIPv6 ?? '-'] : [])]),
        ]),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
