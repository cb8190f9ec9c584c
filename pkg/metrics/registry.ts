/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and histograms with
 * labels, rendered on demand. Hand-written rather than prom-client: requiring prom-client (it brings
 * @opentelemetry/api and tdigest) grows a process by about 11 MiB RSS even bundled, measured on this
 * machine, which is a seventh of the daemon's memory budget (issue 16), for what is a few maps and a
 * renderer. Only what weft uses is here; no summaries, no push.
 */

export type Labels = Readonly<Record<string, string>>;

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const labelText = (l: Labels) => {
  const keys = Object.keys(l).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeValue(l[k]!)}"`).join(',')}}`;
};
const num = (n: number) => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));

interface Metric {
  readonly name: string;
  render(): string[];
}

abstract class Labelled<T> implements Metric {
  readonly name: string;
  readonly help: string;
  protected readonly series = new Map<string, { labels: Labels; value: T }>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  protected slot(labels: Labels, init: () => T): { labels: Labels; value: T } {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, value: init() };
      this.series.set(key, s);
    }
    return s;
  }

  /** Forgets one label set (a network that was removed). */
  remove(labels: Labels): void {
    this.series.delete(labelText(labels));
  }

  abstract render(): string[];

  protected head(type: string): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${type}`];
  }
}

export class Counter extends Labelled<number> {
  inc(labels: Labels = {}, by = 1): void {
    this.slot(labels, () => 0).value += by;
  }

  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    return [...this.head('counter'), ...[...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${num(s.value)}`)];
  }
}

export class Gauge extends Labelled<number> {
  set(labels: Labels, value: number): void {
    this.slot(labels, () => 0).value = value;
  }

  render(): string[] {
    return [...this.head('gauge'), ...[...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${num(s.value)}`)];
  }
}

export class Histogram extends Labelled<{ counts: number[]; sum: number; count: number }> {
  readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels, v: number): void {
    const s = this.slot(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    this.buckets.forEach((b, i) => {
      if (v <= b) s.counts[i]!++;
    });
    s.sum += v;
    s.count++;
  }

  render(): string[] {
    const out = this.head('histogram');
    for (const s of this.series.values()) {
      for (const [i, b] of this.buckets.entries())
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.value.counts[i]}`);
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.value.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.value.sum)}`, `${this.name}_count${labelText(s.labels)} ${s.value.count}`);
    }
    return out;
  }
}

/** Metrics by name, rendered together; `collect` hooks refresh gauges just before a scrape. */
export class Registry {
  readonly #metrics = new Map<string, Metric>();
  readonly #collectors: Array<() => void> = [];

  add<M extends Metric>(m: M): M {
    if (this.#metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }

  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  render(): string {
    for (const c of this.#collectors) c();
    return `${[...this.#metrics.values()].flatMap((m) => m.render()).join('\n')}\n`;
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
