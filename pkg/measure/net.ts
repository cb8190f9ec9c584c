/**
 * Data-path measurements between two network namespaces, with the same tools on both sides of every
 * comparison: TCP throughput of one stream (iperf3) and round-trip time (ping, 200 probes).
 */
import { spawn, spawnSync } from 'node:child_process';

export interface Ns {
  readonly path: string;
}

/** One iperf3 run of `seconds` from `client` to `server` (listening on `ip`); Gbit/s received. */
export async function iperf(server: Ns, client: Ns, ip: string, seconds = 5): Promise<number> {
  const port = 5201 + Math.floor(Math.random() * 1000);
  const srv = spawn('nsenter', [`--net=${server.path}`, 'iperf3', '-s', '-1', '-p', String(port)], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50; i++) {
      const r = spawnSync(
        'nsenter',
        [`--net=${client.path}`, 'iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '-O', '1', '-J'],
        { encoding: 'utf8' },
      );
      let j: { error?: string; end?: { sum_received?: { bits_per_second: number } } } = {};
      try {
        j = r.stdout ? JSON.parse(r.stdout) : {};
      } catch {
        // iperf3 printed no JSON: treated as not yet listening
      }
      const bps = j.end?.sum_received?.bits_per_second;
      if (r.status === 0 && bps !== undefined) return bps / 1e9;
      if (j.error && !/connect|refused/i.test(j.error)) throw new Error(`iperf3 to ${ip}: ${j.error}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`iperf3 to ${ip} did not run`);
  } finally {
    srv.kill('SIGKILL');
  }
}

/** Mean RTT in microseconds of 200 pings 5 ms apart. */
export function rtt(from: Ns, ip: string): number {
  const r = spawnSync('nsenter', [`--net=${from.path}`, 'ping', '-c', '200', '-i', '0.005', '-q', ip], { encoding: 'utf8' });
  const avg = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1];
  if (!avg) throw new Error(`ping to ${ip} failed: ${r.stdout}${r.stderr}`);
  return Number(avg) * 1000;
}
