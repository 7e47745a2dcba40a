import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from '../../../src/observability/metrics.ts';

test('metrics render in the Prometheus text format, labels sorted and escaped', () => {
  const r = new Registry();
  const c = r.counter('calls_total', 'Calls');
  const g = r.gauge('calls_active', 'Active');
  const h = r.histogram('latency_ms', 'Latency', [10, 100]);
  c.inc({ outcome: 'ok' });
  c.inc({ outcome: 'ok' });
  c.inc({ outcome: 'a"b\\c' });
  g.add(3);
  g.add(-1);
  h.observe(5);
  h.observe(50);
  h.observe(500);
  const text = r.render();
  assert.match(text, /# TYPE calls_total counter\ncalls_total\{outcome="ok"\} 2\n/);
  assert.match(text, /calls_total\{outcome="a\\"b\\\\c"\} 1/);
  assert.match(text, /calls_active 2\n/);
  assert.match(
    text,
    /latency_ms_bucket\{le="10"\} 1\nlatency_ms_bucket\{le="100"\} 2\nlatency_ms_bucket\{le="\+Inf"\} 3/,
  );
  assert.match(text, /latency_ms_sum 555\nlatency_ms_count 3/);
  assert.equal(c.get({ outcome: 'ok' }), 2);
});

test('collectors run at each render, so figures kept elsewhere are read when scraped', () => {
  const r = new Registry();
  const g = r.gauge('dropped', 'Dropped');
  let source = 1;
  r.collect(() => g.set(source));
  assert.match(r.render(), /^dropped 1$/m);
  source = 7;
  assert.match(r.render(), /^dropped 7$/m);
});
