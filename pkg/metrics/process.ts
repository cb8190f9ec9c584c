/**
 * The process metrics Prometheus clients export by default (names as prom-client's, so dashboards built for
 * Node services work): CPU, memory, file descriptors, start time, heap, event-loop delay, Node's version.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from './registry.ts';

function procStatusBytes(field: string): number | undefined {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export function processMetrics(r: Registry): void {
  const cpuUser = r.add(new Counter('process_cpu_user_seconds_total', 'User CPU time spent in seconds.'));
  const cpuSystem = r.add(new Counter('process_cpu_system_seconds_total', 'System CPU time spent in seconds.'));
  const cpu = r.add(new Counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'));
  const rss = r.add(new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'));
  const vsz = r.add(new Gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.'));
  const start = r.add(new Gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.'));
  const fds = r.add(new Gauge('process_open_fds', 'Number of open file descriptors.'));
  const heapUsed = r.add(new Gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.'));
  const heapTotal = r.add(new Gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.'));
  const external = r.add(new Gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.'));
  const lag = r.add(new Gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the event loop delay since the last scrape.'));
  const version = r.add(new Gauge('nodejs_version_info', 'Node.js version info.'));
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const startedAt = Date.now() / 1000 - process.uptime();
  r.onCollect(() => {
    const u = process.cpuUsage();
    const set = (c: Counter, v: number) => c.inc({}, v - c.get());
    set(cpuUser, u.user / 1e6);
    set(cpuSystem, u.system / 1e6);
    set(cpu, (u.user + u.system) / 1e6);
    rss.set({}, procStatusBytes('VmRSS') ?? process.memoryUsage.rss());
    vsz.set({}, procStatusBytes('VmSize') ?? 0);
    start.set({}, Math.round(startedAt));
    try {
      fds.set({}, readdirSync('/proc/self/fd').length);
    } catch {
      // no /proc: the gauge keeps its last value
    }
    const m = process.memoryUsage();
    heapUsed.set({}, m.heapUsed);
    heapTotal.set({}, m.heapTotal);
    external.set({}, m.external);
    lag.set({}, loop.percentile(99) / 1e9);
    loop.reset();
    version.set({ version: process.version }, 1);
  });
}
