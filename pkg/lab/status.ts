/**
 * `weft lab status`: the lab's hosts (daemon ready, leases), its networks and their endpoints on every host,
 * and its containers, as the daemons report them.
 */
import { daemonCall } from '../contract/mod.ts';
import { table } from '../measure/mod.ts';
import { healthGet } from '../sim/mod.ts';
import type { LabState } from './state.ts';

interface AgentStatus {
  network: string;
  ready: boolean;
  reason?: string;
  subnet?: string;
  peers: number;
}

/** The daemon's /status (one entry per network), or undefined when it does not answer. */
function daemonStatus(hostPath: string): AgentStatus[] | undefined {
  const r = healthGet(hostPath, '/status', 5000);
  if (!r.ok) return undefined;
  try {
    return JSON.parse(r.body) as AgentStatus[];
  } catch {
    return undefined;
  }
}

export async function labStatus(s: LabState, out: (l: string) => void): Promise<boolean> {
  out(`weft lab in ${s.dir} (up since ${s.created})\n`);
  const rows = [['host', 'underlay', 'daemon', 'network', 'lease', 'peers']];
  let healthy = true;
  for (const h of s.hosts) {
    const st = daemonStatus(`/run/netns/${h.name}`);
    if (!st) {
      healthy = false;
      rows.push([`h${h.n}`, h.ip, 'NOT RUNNING', '', '', '']);
      continue;
    }
    for (const a of st) {
      if (!a.ready) healthy = false;
      rows.push([
        `h${h.n}`,
        h.ip,
        a.ready ? 'ready' : `not ready: ${a.reason ?? '?'}`,
        a.network === '_default' ? 'default' : a.network,
        a.subnet ?? '-',
        String(a.peers),
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
      const list = Object.values(view?.Containers ?? {}).sort((a, b) => a.Name.localeCompare(b.Name));
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
