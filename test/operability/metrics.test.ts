/**
 * `/metrics` on the health port (issue 13), scraped as Prometheus would and parsed: the documented series are
 * there, and they move when things happen (a repair, DNS queries, API requests, etcd requests).
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/daemon.ts';
import { inNetns, run } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';
import { chaosCluster, subnetOf } from '../chaos/harness.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The text exposition format, as a scraper reads it: every sample line, and every TYPE given. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('/metrics', () => {
  it('serves the documented series in the text format, and they count what happens', async () => {
    const x = await chaosCluster('om');
    const d = x.c.daemon(1);
    const scrape = () => {
      const r = d.http('/metrics');
      expect(r.ok).toBe(true);
      return parse(r.body);
    };
    const value = (m: ReturnType<typeof parse>, name: string, labels: Record<string, string> = {}) =>
      m.samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);

    const first = scrape();
    for (const [name, type] of [
      ['weft_reconcile_duration_seconds', 'histogram'],
      ['weft_repairs_total', 'counter'],
      ['weft_peers', 'gauge'],
      ['weft_network_ready', 'gauge'],
      ['weft_lease_expiry_timestamp_seconds', 'gauge'],
      ['weft_etcd_requests_total', 'counter'],
      ['weft_etcd_errors_total', 'counter'],
      ['weft_etcd_watch_restarts_total', 'counter'],
      ['weft_dns_queries_total', 'counter'],
      ['weft_api_requests_total', 'counter'],
      ['weft_cni_operations_total', 'counter'],
      ['weft_attachments', 'gauge'],
      ['weft_build_info', 'gauge'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ])
      expect(first.types.get(name!), name).toBe(type);
    expect(value(first, 'weft_peers', { network: 'RED' })).toBe(1);
    expect(value(first, 'weft_network_ready', { network: 'default' })).toBe(1);
    expect(value(first, 'weft_attachments', { network: 'RED' })).toBe(1);
    expect(value(first, 'weft_cni_operations_total', { network: 'RED', verb: 'ADD', result: 'ok' })).toBe(1);
    expect(value(first, 'weft_etcd_requests_total', { op: 'kv_txn' })).toBeGreaterThan(0);
    expect(value(first, 'weft_lease_expiry_timestamp_seconds', { network: 'RED' })).toBeGreaterThan(Date.now() / 1000 + 3600);
    expect(value(first, 'weft_reconcile_duration_seconds_count', { network: 'RED' })).toBeGreaterThan(0);

    // A repair, DNS queries (one local, one for a name nobody has), API requests.
    run('ip', ['-n', x.c.hosts[0]!.name, 'route', 'del', subnetOf(x, 2, 'RED').subnet]);
    const red1 = x.pods.find((p) => p.name === 'red1')!;
    const gw = subnetOf(x, 1, 'RED').gateway;
    inNetns(red1.ns.name, 'busybox', ['nslookup', 'red2', gw]);
    inNetns(red1.ns.name, 'busybox', ['nslookup', 'nosuchname', gw]);
    weftOk(x.c, 1, ['network', 'ls']);
    await eventually('the counters moved', () => {
      const m = scrape();
      return (
        value(m, 'weft_repairs_total', { network: 'RED', kind: 'peers' }) >= 1 &&
        value(m, 'weft_dns_queries_total', { network: 'RED', answer: 'local' }) >= 1 &&
        value(m, 'weft_dns_queries_total', { network: 'RED', answer: 'nxdomain' }) >= 1 &&
        value(m, 'weft_api_requests_total', { route: 'GET /v1/networks', status: '200' }) >= 1
      );
    });
  });
});
