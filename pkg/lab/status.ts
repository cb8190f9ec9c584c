/**
 * `weft lab status`: the lab's hosts (each daemon's status, as `weft status` asks it: readiness, leases,
 * peers, repairs), its networks and their endpoints on every host, and its containers.
 */
import { daemonCall } from '../contract/mod.ts';
import type { DaemonStatus } from '../contract/status.ts';
import { table } from '../measure/mod.ts';
import type { LabState } from './state.ts';
import { compareText } from '../text.ts';

/** The daemon's status (through its socket, as `weft status` asks), or why it did not answer. */
async function daemonStatus(socket: string): Promise<DaemonStatus | string> {
  try {
    return await daemonCall<DaemonStatus>(socket, 'GET', '/v1/status');
  } catch (e) {
    return (e as Error).message;
  }
}

export async function labStatus(s: LabState, out: (l: string) => void): Promise<boolean> {
  out(`weft lab in ${s.dir} (up since ${s.created})\n`);
  const rows = [['host', 'underlay', 'daemon', 'network', 'lease', 'peers', 'repairs']];
  let healthy = true;
  for (const h of s.hosts) {
    const st = await daemonStatus(h.socket);
    if (typeof st === 'string') {
      healthy = false;
      rows.push([`h${h.n}`, h.ip, `NOT ANSWERING: ${st}`, '', '', '', '']);
      continue;
    }
    for (const a of st.networks) {
      if (!a.ready) healthy = false;
      const r = a.lastReconcile;
      rows.push([
        `h${h.n}`,
        h.ip,
        a.ready ? 'ready' : `not ready: ${a.reason ?? '?'}`,
        a.name,
        a.subnet ?? '-',
        String(a.peers.count),
        r ? `${a.repairs}` : '-',
      ]);
    }
  }
  out(table(rows));
  const sock = s.hosts[0]!.socket;
  try {
    const nets = await daemonCall<Array<{ id: string; name: string }>>(sock, 'GET', '/v1/networks');
    const eps = [['network', 'id', 'endpoint', 'host', 'address']];
    for (const n of nets) {
      if (n.name === 'default') continue;
      const [view] = await daemonCall<Array<{ Containers: Record<string, { Name: string; Host: string; IPv4Address: string }> }>>(
        sock,
        'GET',
        `/v1/networks/${encodeURIComponent(n.name)}`,
      );
      const list = Object.values(view?.Containers ?? {}).sort((a, b) => compareText(a.Name, b.Name));
      if (list.length === 0) eps.push([n.name, n.id.slice(0, 12), '-', '', '']);
      for (const e of list) eps.push([n.name, n.id.slice(0, 12), e.Name, e.Host, e.IPv4Address]);
    }
    out(`\n${table(eps)}`);
  } catch (e) {
    healthy = false;
    out(`\nnetworks: cannot ask the daemon on h1: ${(e as Error).message}`);
  }
  out(
    `\n${table([
      ['container', 'host', 'attached by', 'addresses'],
      ...s.containers.map((c) => [
        c.name,
        `h${c.host}`,
        c.via,
        Object.entries(c.addresses)
          .map(([n, a]) => `${n} ${a}`)
          .join(', '),
      ]),
    ])}`,
  );
  return healthy;
}
