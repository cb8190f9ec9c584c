/**
 * etcd's own account of its load, from its Prometheus endpoint (`/metrics` on the client socket): what the
 * scale benchmark reports for etcd rather than guessing from the daemons' side. Requests are gRPC messages
 * received, by method: the JSON gateway the daemons use (docs/adr/0005) turns each HTTP call into one, and a
 * watch or keep-alive stream counts each message. Watch events are those etcd sent to watchers.
 */
import { unixRequest } from '../pkg/contract/unix-http.ts';

export interface EtcdLoad {
  /** gRPC messages received, by method (Range, Txn, Put, LeaseKeepAlive, Watch, ...). */
  readonly requests: ReadonlyMap<string, number>;
  /** Watch events sent to watchers, in all. */
  readonly events: number;
  /** Open watchers. */
  readonly watchers: number;
  /** The database file's size. */
  readonly dbBytes: number;
  /** etcd's CPU time so far (user + system). */
  readonly cpuSec: number;
  /** Bytes etcd sent its gRPC clients (the JSON gateway is one), so far. */
  readonly sentBytes: number;
}

async function scrape(socketPath: string): Promise<string> {
  const r = await unixRequest(socketPath, 'GET', '/metrics', undefined, 10_000);
  if (r.status !== 200) throw new Error(`etcd /metrics answered ${r.status}`);
  return r.body;
}

/** Sum of every sample of `name` (all label sets), and the per-label breakdown when `by` is given. */
function samples(text: string, name: string, by?: string): { total: number; byLabel: Map<string, number> } {
  const byLabel = new Map<string, number>();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    total += value;
    const label = by ? new RegExp(`${by}="([^"]*)"`).exec(line)?.[1] : undefined;
    if (label !== undefined) byLabel.set(label, (byLabel.get(label) ?? 0) + value);
  }
  return { total, byLabel };
}

export async function etcdLoad(socketPath: string): Promise<EtcdLoad> {
  const text = await scrape(socketPath);
  return {
    requests: samples(text, 'grpc_server_msg_received_total', 'grpc_method').byLabel,
    events: samples(text, 'etcd_debugging_mvcc_events_total').total,
    watchers: samples(text, 'etcd_debugging_mvcc_watcher_total').total,
    dbBytes: samples(text, 'etcd_mvcc_db_total_size_in_bytes').total,
    cpuSec: samples(text, 'process_cpu_seconds_total').total,
    sentBytes: samples(text, 'etcd_network_client_grpc_sent_bytes_total').total,
  };
}

/** What happened between two scrapes: requests by method, events, etcd CPU. */
export function loadBetween(
  a: EtcdLoad,
  b: EtcdLoad,
): { requests: Map<string, number>; total: number; events: number; cpuSec: number; sentBytes: number } {
  const requests = new Map<string, number>();
  for (const [m, n] of b.requests) {
    const d = n - (a.requests.get(m) ?? 0);
    if (d > 0) requests.set(m, d);
  }
  const total = [...requests.values()].reduce((x, y) => x + y, 0);
  return { requests, total, events: b.events - a.events, cpuSec: b.cpuSec - a.cpuSec, sentBytes: b.sentBytes - a.sentBytes };
}
