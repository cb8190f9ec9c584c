/**
 * `/healthz` (the process is alive) and `/readyz` (every network holds its lease, wrote its subnet file and
 * programmed its peers), as flanneld serves them on --healthz-ip:--healthz-port; `/status` adds a JSON view
 * of each network, and `/metrics` the Prometheus metrics (pkg/daemon/metrics.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AgentStatus } from '../agent/mod.ts';
import { CONTENT_TYPE } from '../metrics/mod.ts';

/**
 * Whether the daemon serves: every configured network ready, and at least one configured (a host may serve
 * only named networks, or only flannel's). Otherwise why not, per network; with none configured each says
 * why (etcd unreachable, its config missing or invalid).
 */
export function readiness(statuses: readonly AgentStatus[]): { ready: true } | { ready: false; why: string } {
  const configured = statuses.filter((s) => s.configured);
  const notReady =
    configured.length === 0
      ? statuses.map((s) => ({ network: s.network, reason: s.reason ?? 'no network is configured yet' }))
      : configured.filter((s) => !s.ready);
  if (notReady.length === 0) return { ready: true };
  return { ready: false, why: notReady.map((s) => `${s.network}: ${s.reason ?? 'starting'}`).join('; ') };
}

export function startHealthServer(opts: {
  host: string;
  port: number;
  status: () => AgentStatus[];
  metrics: () => string;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const statuses = opts.status();
    const r = readiness(statuses);
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('weft is running\n');
    } else if (req.url === '/readyz') {
      if (r.ready) res.writeHead(200, { 'content-type': 'text/plain' }).end('weft is ready\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`weft is not ready: ${r.why}\n`);
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(opts.metrics());
    } else if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(statuses, null, 2)}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
