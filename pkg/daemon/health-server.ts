/**
 * `/healthz` (the process is alive) and `/readyz` (every network holds its lease, wrote its subnet file and
 * programmed its peers), as flanneld serves them on --healthz-ip:--healthz-port; `/status` adds a JSON view
 * of each network, and `/metrics` the Prometheus metrics (pkg/daemon/metrics.ts).
 *
 * Where it listens: nowhere by default (`--healthz-port` is 0); given a port, on `--healthz-ip`, which is
 * 0.0.0.0 by default as flanneld's is (flannel-compat/daemon-flags.ts), because kubelet probes and
 * Prometheus reach it from outside the host. On 0.0.0.0 every address of the host answers, the underlay
 * and each bridge's gateway address too, so a container of any network can read `/status` and `/metrics`
 * (every network's name, ranges, device and peer count). Give `--healthz-ip=127.0.0.1` (or a management address) where
 * the probes are local. The port serves only GET and HEAD, reads no body, changes nothing, and runs inside
 * pkg/http's boundary (issue 25): a request it cannot read is a 4xx, never a crash.
 */
import type { Server } from 'node:http';
import type { AgentStatus } from '../agent/mod.ts';
import { guardedServer, HttpError, quoted, sendJson } from '../http/mod.ts';
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

/** Probes and a scraper or two: the network cannot hold more of the daemon's sockets than this. */
const HEALTH_LIMITS = { maxConnections: 64 };

export function startHealthServer(opts: {
  host: string;
  port: number;
  status: () => AgentStatus[];
  metrics: () => string;
}): Promise<Server> {
  const server = guardedServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, 'WEFT_INVALID_ARGUMENT', `the health port answers GET only, not ${req.method}`);
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('weft is running\n');
    } else if (req.url === '/readyz') {
      const r = readiness(opts.status());
      if (r.ready) res.writeHead(200, { 'content-type': 'text/plain' }).end('weft is ready\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`weft is not ready: ${r.why}\n`);
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(opts.metrics());
    } else if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(opts.status(), null, 2)}\n`);
    } else {
      sendJson(res, 404, {
        code: 'WEFT_NOT_FOUND',
        message: `no such path: ${quoted(req.url ?? '')} (/healthz, /readyz, /status, /metrics)`,
      });
    }
  }, HEALTH_LIMITS);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
