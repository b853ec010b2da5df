import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, escapeLabelValue, formatValue } from './metrics.ts';
import { countWrites, createRuntimeMetrics } from './runtime-metrics.ts';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const r = new Registry();
    const c = r.counter({ name: 'zcsp_things_total', help: 'Things.\nSecond line with \\ backslash.', labelNames: ['kind', 'result'] });
    c.inc({ kind: 'a', result: 'ok' });
    c.inc({ kind: 'a', result: 'ok' }, 2);
    c.inc({ kind: 'b"q', result: 'line\nbreak\\' });
    const g = r.gauge({ name: 'zcsp_depth', help: 'Depth.' });
    g.set({}, 7);
    const h = r.histogram({ name: 'zcsp_seconds', help: 'Durations.', labelNames: ['controller'], buckets: [0.1, 1] });
    h.observe({ controller: 'vpg' }, 0.05);
    h.observe({ controller: 'vpg' }, 0.5);
    h.observe({ controller: 'vpg' }, 5);
    assert.equal(r.render(), [
      '# HELP zcsp_things_total Things.\\nSecond line with \\\\ backslash.',
      '# TYPE zcsp_things_total counter',
      'zcsp_things_total{kind="a",result="ok"} 3',
      'zcsp_things_total{kind="b\\"q",result="line\\nbreak\\\\"} 1',
      '# HELP zcsp_depth Depth.',
      '# TYPE zcsp_depth gauge',
      'zcsp_depth 7',
      '# HELP zcsp_seconds Durations.',
      '# TYPE zcsp_seconds histogram',
      'zcsp_seconds_bucket{controller="vpg",le="0.1"} 1',
      'zcsp_seconds_bucket{controller="vpg",le="1"} 2',
      'zcsp_seconds_bucket{controller="vpg",le="+Inf"} 3',
      'zcsp_seconds_sum{controller="vpg"} 5.55',
      'zcsp_seconds_count{controller="vpg"} 3',
      '',
    ].join('\n'));
  });

  it('runs a gauge collect function at scrape time', () => {
    const r = new Registry();
    let n = 0;
    const g = r.gauge({ name: 'zcsp_scrapes', help: 'Scrapes.' });
    g.onCollect(() => g.set({}, ++n));
    r.render();
    assert.match(r.render(), /^zcsp_scrapes 2$/m);
  });

  it('refuses duplicate names, bad names, wrong labels and decreasing counters (stable codes)', () => {
    const r = new Registry();
    const c = r.counter({ name: 'zcsp_x_total', help: 'x', labelNames: ['a'] });
    assert.throws(() => r.counter({ name: 'zcsp_x_total', help: 'x' }), { code: 'MetricExists' });
    assert.throws(() => r.gauge({ name: 'zcsp-bad', help: 'x' }), { code: 'InvalidOptions' });
    assert.throws(() => r.histogram({ name: 'zcsp_h', help: 'x', labelNames: ['le'] }), { code: 'InvalidOptions' });
    assert.throws(() => c.inc({ b: 'x' } as unknown as { a: string }), { code: 'MetricLabels' });
    assert.throws(() => c.inc({ a: 'x' }, -1), { code: 'InvalidOptions' });
  });

  it('formats special values and escapes label values', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });

  it('counts write requests across labels, with resource filters', () => {
    const m = createRuntimeMetrics(new Registry());
    m.apiRequests.inc({ verb: 'get', resource: 'configmaps', code: '200' }, 10);
    m.apiRequests.inc({ verb: 'apply', resource: 'configmaps', code: '200' }, 2);
    m.apiRequests.inc({ verb: 'patch', resource: 'vpgs.zcsp.io/status', code: '200' });
    m.apiRequests.inc({ verb: 'update', resource: 'leases.coordination.k8s.io', code: '200' }, 5);
    m.apiRequests.inc({ verb: 'create', resource: 'events.events.k8s.io', code: '201' });
    assert.equal(countWrites(m.apiRequests), 9);
    assert.equal(countWrites(m.apiRequests, { excludeResources: ['leases.coordination.k8s.io', 'events.events.k8s.io'] }), 3);
    assert.equal(countWrites(m.apiRequests, { resources: ['vpgs.zcsp.io'] }), 1);
  });
});
