/**
 * `weft doctor --probe`: the data path to every peer, measured: three pings from this host to each peer's
 * VTEP address (`<subnet>.0`, on the peer's VXLAN device), over the overlay, all peers at once.
 */
import { spawn } from 'node:child_process';
import type { NetworkStatus } from '../contract/status.ts';
import type { Check } from './checks.ts';

export interface ProbeResult {
  readonly sent: number;
  readonly received: number;
  readonly avgMs: number | undefined;
}

/** Parses `ping -q` output ("3 packets transmitted, 2 received", "rtt min/avg/max/mdev = 0.1/0.2/..."). Pure. */
export function parsePing(out: string): ProbeResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), avgMs: rtt ? Number(rtt[1]) : undefined };
}

function ping(ip: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const p = spawn('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-q', ip], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (b) => (out += String(b)));
    p.on('error', () => resolve({ sent: 0, received: 0, avgMs: undefined }));
    p.on('close', () => resolve(parsePing(out)));
  });
}

export function probeVerdict(network: string, peer: { subnet: string; publicIP: string }, r: ProbeResult): Check {
  const at = `${peer.subnet.split('/')[0]} (peer ${peer.publicIP})`;
  const loss = r.sent === 0 ? 100 : Math.round((100 * (r.sent - r.received)) / r.sent);
  const detail = `${at}: ${loss}% loss${r.avgMs !== undefined ? `, ${r.avgMs} ms` : ''}`;
  const fix = `check the underlay between this host and ${peer.publicIP} (UDP to its VXLAN port), and run weft doctor there`;
  if (loss === 100) return { check: 'probe', network, status: 'fail', detail, fix };
  if (loss > 0) return { check: 'probe', network, status: 'warn', detail, fix };
  return { check: 'probe', network, status: 'ok', detail };
}

export async function probePeers(networks: readonly NetworkStatus[]): Promise<Check[]> {
  const jobs = networks.flatMap((n) => (n.peers.list ?? []).map((p) => ({ n: n.name, p })));
  const results = await Promise.all(jobs.map((j) => ping(j.p.subnet.split('/')[0]!)));
  return jobs.map((j, i) => probeVerdict(j.n, j.p, results[i]!));
}
