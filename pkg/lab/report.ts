/**
 * The lab's benchmark report: a Markdown file with the figures and their ratios, and an SVG bar chart of
 * the ratios against the peer each was measured next to (1.0 = the same as the peer). Pure rendering plus
 * one write per file.
 */
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/mod.ts';
import { table } from '../measure/mod.ts';

export const REPORT_MD = 'report.md';
export const REPORT_SVG = 'report.svg';

export interface BenchReport {
  readonly when: string;
  readonly dataPath: {
    rounds: number;
    hostGbps: number;
    podGbps: number;
    hostRttUs: number;
    podRttUs: number;
    /** Over IPv6 (a dual-stack network), when the lab has one. */
    pod6Gbps?: number;
    pod6RttUs?: number;
  };
  readonly cni: { cycles: number; weftMs: number; refMs: number; weftVersionMs: number; refVersionMs: number };
  readonly newHost: { hosts: number; leaseMs: number; peersMs: number; readyMs: number };
  readonly footprint: {
    daemons: number;
    daemonRssMiB: number;
    daemonPrivateMiB: number;
    etcdRssMiB: number | undefined;
    executableMiB: number;
  };
}

interface Bar {
  readonly label: string;
  readonly ratio: number;
  /** Whether a higher ratio is better (throughput) or worse (time). */
  readonly higherIsBetter: boolean;
}

export function bars(r: BenchReport): Bar[] {
  return [
    { label: 'pod-to-pod throughput / host-to-host', ratio: r.dataPath.podGbps / r.dataPath.hostGbps, higherIsBetter: true },
    { label: 'pod-to-pod RTT / host-to-host', ratio: r.dataPath.podRttUs / r.dataPath.hostRttUs, higherIsBetter: false },
    ...(r.dataPath.pod6Gbps !== undefined
      ? [{ label: 'pod-to-pod IPv6 throughput / host-to-host', ratio: r.dataPath.pod6Gbps / r.dataPath.hostGbps, higherIsBetter: true }]
      : []),
    { label: 'CNI ADD+DEL: weft / bridge+host-local', ratio: r.cni.weftMs / r.cni.refMs, higherIsBetter: false },
    { label: 'CNI VERSION: weft / bridge', ratio: r.cni.weftVersionMs / r.cni.refVersionMs, higherIsBetter: false },
  ];
}

const f2 = (x: number) => x.toFixed(2);

export function reportTables(r: BenchReport): string {
  const d = r.dataPath;
  const c = r.cni;
  const h = r.newHost;
  return [
    table([
      [`data path (median of ${d.rounds} rounds)`, 'throughput', 'ratio', 'RTT', 'ratio'],
      ['host-to-host (underlay)', `${f2(d.hostGbps)} Gbit/s`, '1.00', `${d.hostRttUs.toFixed(0)} us`, '1.00'],
      [
        'pod-to-pod over VXLAN',
        `${f2(d.podGbps)} Gbit/s`,
        f2(d.podGbps / d.hostGbps),
        `${d.podRttUs.toFixed(0)} us`,
        f2(d.podRttUs / d.hostRttUs),
      ],
      ...(d.pod6Gbps !== undefined && d.pod6RttUs !== undefined
        ? [
            [
              'pod-to-pod over VXLAN, IPv6',
              `${f2(d.pod6Gbps)} Gbit/s`,
              f2(d.pod6Gbps / d.hostGbps),
              `${d.pod6RttUs.toFixed(0)} us`,
              f2(d.pod6RttUs / d.hostRttUs),
            ],
          ]
        : []),
    ]),
    table([
      [`CNI (p50 of ${c.cycles} cycles)`, 'ADD+DEL', 'ratio', 'VERSION', 'ratio'],
      ['bridge+host-local (Debian)', `${f2(c.refMs)} ms`, '1.00', `${f2(c.refVersionMs)} ms`, '1.00'],
      ['weft', `${f2(c.weftMs)} ms`, f2(c.weftMs / c.refMs), `${f2(c.weftVersionMs)} ms`, f2(c.weftVersionMs / c.refVersionMs)],
    ]),
    table([
      [`a new host joins ${h.hosts} hosts`, 'after daemon start'],
      ['lease held, subnet file written', `${h.leaseMs.toFixed(0)} ms`],
      ['routes to it on every other host', `${h.peersMs.toFixed(0)} ms`],
      ['its /readyz answers ready', `${h.readyMs.toFixed(0)} ms`],
    ]),
    footprintTable(r.footprint),
  ].join('\n\n');
}

function footprintTable(f: BenchReport['footprint']): string {
  const mib = (n: number) => `${n.toFixed(0)} MiB`;
  return table([
    ['footprint, after the bench', 'RSS', 'private', 'goal (idle 60 s)'],
    [`weft daemon (largest of ${f.daemons})`, mib(f.daemonRssMiB), mib(f.daemonPrivateMiB), '<= 80 MiB'],
    ["the lab's etcd server (peer)", f.etcdRssMiB === undefined ? 'not running' : mib(f.etcdRssMiB), '', ''],
    ['dist/weft on disk', mib(f.executableMiB), '', ''],
  ]);
}

export function chartSvg(r: BenchReport): string {
  const bs = bars(r);
  const max = Math.max(2, ...bs.map((b) => b.ratio)) * 1.1;
  const [left, width, rowH] = [300, 420, 34];
  const x = (v: number) => left + (v / max) * width;
  const height = 60 + bs.length * rowH + 30;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bs.map((b, i) => {
    const y = 50 + i * rowH;
    const good = b.higherIsBetter ? b.ratio >= 1 : b.ratio <= 1;
    return (
      `<text x="${left - 10}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y + 4}" width="${(x(b.ratio) - left).toFixed(1)}" height="18" fill="${good ? '#3c8d5a' : '#c0713a'}"/>` +
      `<text x="${(x(b.ratio) + 6).toFixed(1)}" y="${y + 17}">${b.ratio.toFixed(2)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 60}" height="${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">weft lab: each figure as a ratio to the peer measured in the same run</text>
${rows.join('\n')}
<line x1="${x(1).toFixed(1)}" y1="42" x2="${x(1).toFixed(1)}" y2="${height - 24}" stroke="#333" stroke-dasharray="4 3"/>
<text x="${x(1).toFixed(1)}" y="${height - 8}" text-anchor="middle">1.0 = the peer</text>
</svg>
`;
}

export function writeReport(dir: string, r: BenchReport, out: (l: string) => void): void {
  const tables = reportTables(r);
  const md = `# weft lab benchmark

${r.when}; ${cpus().length} CPUs, Linux ${release()}; every host, pod and link is a namespace or veth on this one
machine, so absolute figures are this machine's; each ratio is against the peer measured in the same run.

![ratios](${REPORT_SVG})

\`\`\`
${tables}
\`\`\`
`;
  writeFileAtomic(join(dir, 'report.md'), md);
  writeFileAtomic(join(dir, 'report.svg'), chartSvg(r));
  out(tables);
  out(`\nreport: ${join(dir, 'report.md')}  chart: ${join(dir, 'report.svg')}`);
}
