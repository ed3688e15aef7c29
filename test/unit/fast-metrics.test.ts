import { describe, expect, it } from 'vitest';
import { FastMetrics } from '../../src/listener/fast-metrics';

describe('request-path metrics', () => {
  it("render counters and cumulative histograms in Prometheus' text format, labels escaped", () => {
    const m = new FastMetrics();
    const c = m.counter('x_total', 'Some things.', ['a', 'b']);
    c.child('1', 'q"uote\\').inc();
    const two = c.child('2', 'n\nl');
    two.inc();
    two.inc(2);
    const h = m.histogram('x_seconds', 'Durations.', [0.1, 1], ['k']).child('w');
    for (const v of [0.05, 0.5, 0.5, 3]) h.observe(v);
    expect(m.text()).toBe(
      [
        '# HELP x_total Some things.',
        '# TYPE x_total counter',
        'x_total{a="1",b="q\\"uote\\\\"} 1',
        'x_total{a="2",b="n\\nl"} 3',
        '# HELP x_seconds Durations.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1",k="w"} 1',
        'x_seconds_bucket{le="1",k="w"} 3',
        'x_seconds_bucket{le="+Inf",k="w"} 4',
        'x_seconds_sum{k="w"} 4.05',
        'x_seconds_count{k="w"} 4',
        '',
      ].join('\n'),
    );
  });
});
