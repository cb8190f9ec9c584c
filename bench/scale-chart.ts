/**
 * The scale benchmark's chart: one small panel per figure, each a line over N (hosts), on linear axes so a
 * straight line reads as linear growth. Hand-written SVG: a few dozen elements, not worth a charting library.
 */

export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
}

const W = 300;
const H = 180;
const PAD = { left: 48, right: 12, top: 28, bottom: 34 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function panel(p: Panel, x0: number, y0: number): string {
  const pts = p.series.flatMap((s) => s.points);
  const xs = pts.map(([x]) => x);
  const [xmin, xmax] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  const ymax = Math.max(...pts.map(([, y]) => y), 1e-9) * 1.1;
  const px = (x: number) => x0 + PAD.left + ((x - xmin) / (xmax - xmin)) * (W - PAD.left - PAD.right);
  const py = (y: number) => y0 + H - PAD.bottom - (y / ymax) * (H - PAD.top - PAD.bottom);
  const out = [
    `<text x="${x0 + W / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<line x1="${px(xmin)}" y1="${py(0)}" x2="${px(xmax)}" y2="${py(0)}" stroke="#444"/>`,
    `<line x1="${px(xmin)}" y1="${py(0)}" x2="${px(xmin)}" y2="${py(ymax)}" stroke="#444"/>`,
    `<text x="${x0 + 4}" y="${py(ymax) + 4}" font-size="10">${fmt(ymax)}</text>`,
    `<text x="${x0 + 4}" y="${py(0)}" font-size="10">0 ${esc(p.unit)}</text>`,
    `<text x="${px(xmax)}" y="${y0 + H - 8}" text-anchor="end" font-size="10">hosts (N)</text>`,
  ];
  for (const x of [...new Set(xs)]) out.push(`<text x="${px(x)}" y="${py(0) + 13}" text-anchor="middle" font-size="10">${x}</text>`);
  p.series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${c}"/>`);
    out.push(`<text x="${x0 + PAD.left + 6}" y="${y0 + PAD.top + 10 + i * 12}" font-size="10" fill="${c}">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** Panels in rows of `columns`. */
export function scaleChartSvg(title: string, panels: readonly Panel[], columns = 3): string {
  const rows = Math.ceil(panels.length / columns);
  const [width, height] = [columns * W, rows * H + 30];
  const body = panels.map((p, i) => panel(p, (i % columns) * W, 30 + Math.floor(i / columns) * H)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
