/**
 * The daemon's Prometheus metrics, served as `/metrics` on the health port: reconcile passes and repairs,
 * peers, readiness and lease expiry per network, etcd requests and errors, watch restarts, DNS answers, API
 * requests, CNI attachments, and the process metrics. Names and labels are documented in docs/operating.md
 * ("Operating weft"); the hooks below are handed to the parts that count.
 */
import type { RepairKind } from '../agent/mod.ts';
import type { NetworkStatus } from '../contract/status.ts';
import type { DnsAnswer } from '../dns/mod.ts';
import { Counter, Gauge, Histogram, processMetrics, Registry } from '../metrics/mod.ts';
import { VERSION } from '../version.ts';

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #reconcile = this.registry.add(
    new Histogram(
      'weft_reconcile_duration_seconds',
      'Reconcile passes (kernel compared with the leases, differences applied).',
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
  );
  readonly #repairs = this.registry.add(
    new Counter('weft_repairs_total', "Things found changed behind weft's back and put right, by kind."),
  );
  readonly #etcd = this.registry.add(new Counter('weft_etcd_requests_total', 'etcd requests, by operation.'));
  readonly #etcdErrors = this.registry.add(
    new Counter('weft_etcd_errors_total', 'etcd requests that failed, by operation and error code.'),
  );
  readonly #watch = this.registry.add(new Counter('weft_etcd_watch_restarts_total', 'Watches that ended and were listed again, by why.'));
  readonly #dns = this.registry.add(
    new Counter('weft_dns_queries_total', 'DNS queries from containers, by network and how they were answered.'),
  );
  readonly #api = this.registry.add(new Counter('weft_api_requests_total', "Requests on the daemon's socket, by route and HTTP status."));
  readonly #docker = this.registry.add(
    new Counter('weft_docker_requests_total', "Docker's calls of the plugin API, by method and result (ok, error)."),
  );
  readonly #cni = this.registry.add(
    new Counter('weft_cni_operations_total', 'Named attachments registered (ADD) and removed (DEL) through the daemon, by result.'),
  );
  readonly #peers = this.registry.add(new Gauge('weft_peers', "Peers (other hosts' leases) per network."));
  readonly #ready = this.registry.add(new Gauge('weft_network_ready', '1 when the network serves on this host.'));
  readonly #expiry = this.registry.add(
    new Gauge('weft_lease_expiry_timestamp_seconds', "When this host's lease expires unless renewed (unix time)."),
  );
  readonly #attached = this.registry.add(
    new Gauge('weft_attachments', "Containers attached on this host, per network (from the CNI plugin's records)."),
  );

  /** `networks`: each network's status at scrape time; `attachments`: each network's attachment count. */
  constructor(o: { networks: () => readonly NetworkStatus[]; attachments: (network: string) => number }) {
    processMetrics(this.registry);
    this.registry.add(new Gauge('weft_build_info', "weft's version.")).set({ version: VERSION }, 1);
    let known = new Set<string>();
    this.registry.onCollect(() => {
      const now = new Set<string>();
      for (const n of o.networks()) {
        const l = { network: n.name };
        now.add(n.name);
        this.#peers.set(l, n.peers.count);
        this.#ready.set(l, n.ready ? 1 : 0);
        if (n.leaseExpires) this.#expiry.set(l, Math.round(Date.parse(n.leaseExpires) / 1000));
        this.#attached.set(l, o.attachments(n.name));
      }
      for (const gone of [...known].filter((n) => !now.has(n)))
        for (const g of [this.#peers, this.#ready, this.#expiry, this.#attached]) g.remove({ network: gone });
      known = now;
    });
  }

  pass(network: string, seconds: number): void {
    this.#reconcile.observe({ network }, seconds);
  }

  repair(network: string, kind: RepairKind | 'firewall' | 'conflist' | 'dns' | 'docker_plugin'): void {
    this.#repairs.inc({ network, kind });
  }

  etcdRequest(op: string, error: string | undefined): void {
    this.#etcd.inc({ op });
    if (error) this.#etcdErrors.inc({ op, code: error });
  }

  watchRestart(why: string): void {
    this.#watch.inc({ why });
  }

  dnsQuery(network: string, answer: DnsAnswer): void {
    this.#dns.inc({ network, answer });
  }

  apiRequest(route: string, status: number): void {
    this.#api.inc({ route, status: String(status) });
  }

  dockerRequest(method: string, result: 'ok' | 'error'): void {
    this.#docker.inc({ method, result });
  }

  cni(network: string, verb: 'ADD' | 'DEL', result: 'ok' | 'error'): void {
    this.#cni.inc({ network, verb, result });
  }
}
