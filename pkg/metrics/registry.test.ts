import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from './registry.ts';

describe('Registry', () => {
  it('renders counters, gauges and histograms in the text exposition format, labels escaped and sorted', () => {
    const r = new Registry();
    const c = r.add(new Counter('weft_repairs_total', 'Repairs made.'));
    c.inc({ network: 'RED', kind: 'peers' });
    c.inc({ network: 'RED', kind: 'peers' }, 2);
    r.add(new Gauge('weft_peers', 'Peers.')).set({ network: 'a"b\\c' }, 3);
    const h = r.add(new Histogram('weft_reconcile_duration_seconds', 'Passes.', [0.01, 0.1]));
    h.observe({ network: 'RED' }, 0.005);
    h.observe({ network: 'RED' }, 0.05);
    expect(r.render()).toBe(
      [
        '# HELP weft_repairs_total Repairs made.',
        '# TYPE weft_repairs_total counter',
        'weft_repairs_total{kind="peers",network="RED"} 3',
        '# HELP weft_peers Peers.',
        '# TYPE weft_peers gauge',
        'weft_peers{network="a\\"b\\\\c"} 3',
        '# HELP weft_reconcile_duration_seconds Passes.',
        '# TYPE weft_reconcile_duration_seconds histogram',
        'weft_reconcile_duration_seconds_bucket{le="0.01",network="RED"} 1',
        'weft_reconcile_duration_seconds_bucket{le="0.1",network="RED"} 2',
        'weft_reconcile_duration_seconds_bucket{le="+Inf",network="RED"} 2',
        'weft_reconcile_duration_seconds_sum{network="RED"} 0.055',
        'weft_reconcile_duration_seconds_count{network="RED"} 2',
        '',
      ].join('\n'),
    );
    expect(() => r.add(new Counter('weft_peers', 'again'))).toThrow('registered twice');
  });
});
