import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Registry } from '../../src/runtime/index.ts';
import { TROUBLESHOOTING_DOC, parseMarkdown } from './markdown.ts';
import { metricNameSites } from './metric-names.ts';
import { BEGIN, END, METRICS_DOC, describeRegistry, processes, renderReference, withReference, type ProcessMetrics } from './metrics.ts';
import { Source, readSources } from './source-scan.ts';

/** Labels the documented scrape configuration adds to every target, besides the metrics' own. */
const TARGET_LABELS = new Set(['job', 'instance', 'pod', 'pod_namespace', 'node', 'component']);

const all = (list: readonly ProcessMetrics[]) => list.flatMap((p) => p.metrics);

/** Every series name a scrape can show: histograms add _bucket, _sum and _count. */
function seriesNames(list: readonly ProcessMetrics[]): Map<string, { labels: readonly string[]; metric: string }> {
  const out = new Map<string, { labels: readonly string[]; metric: string }>();
  for (const m of all(list)) {
    out.set(m.name, { labels: m.labels, metric: m.name });
    if (m.type === 'histogram') {
      out.set(`${m.name}_bucket`, { labels: [...m.labels, 'le'], metric: m.name });
      for (const s of ['_sum', '_count']) out.set(`${m.name}${s}`, { labels: m.labels, metric: m.name });
    }
  }
  return out;
}

describe('the metrics reference', () => {
  it('reads every metric back from a registry, with type, help, labels and buckets', () => {
    const r = new Registry();
    r.counter({ name: 'x_total', help: 'X.', labelNames: ['a'] });
    r.gauge({ name: 'y', help: 'Y.' });
    r.histogram({ name: 'z_seconds', help: 'Z.', labelNames: ['b', 'c'], buckets: [1, 2] });
    assert.deepEqual(describeRegistry(r), [
      { name: 'x_total', type: 'counter', help: 'X.', labels: ['a'] },
      { name: 'y', type: 'gauge', help: 'Y.', labels: [] },
      { name: 'z_seconds', type: 'histogram', help: 'Z.', labels: ['b', 'c'], buckets: [1, 2] },
    ]);
  });

  it('is deterministic', () => {
    assert.equal(renderReference(), renderReference());
  });

  it('is what docs/metrics.md says (run `node tools/docs/metrics.ts` after changing a metric)', async () => {
    const doc = await readFile(METRICS_DOC, 'utf8');
    assert.equal(doc, withReference(doc), 'docs/metrics.md: the generated reference is stale');
  });

  it('replaces only the generated part, and refuses a document without one', () => {
    const doc = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
    assert.equal(withReference(doc, `${BEGIN}\nnew\n${END}`), `intro\n${BEGIN}\nnew\n${END}\noutro\n`);
    assert.throws(() => withReference('no markers'), /GENERATED/);
  });

  it('covers every metric name the sources register, and only those', async () => {
    const documented = new Set(all(processes()).map((m) => m.name));
    const sites = metricNameSites(await readSources('src'));
    const spelled = new Set(sites.filter((s) => s.pattern === undefined).map((s) => s.name));
    const missing = sites.filter((s) => s.pattern === undefined && !documented.has(s.name));
    assert.deepEqual(missing.map((s) => `${s.name} (${s.file}:${s.line})`), [],
      'metrics in the sources that no registry of tools/docs/metrics.ts has: build the registry they are registered on there');
    const composed = sites.filter((s) => s.pattern !== undefined && ![...documented].some((n) => s.pattern?.test(n) === true));
    assert.deepEqual(composed.map((s) => `${s.name} (${s.file}:${s.line})`), [],
      'composed metric names that match no documented metric: build their registry in tools/docs/metrics.ts');
    const unseen = [...documented].filter((n) => !spelled.has(n) && !sites.some((s) => s.pattern?.test(n) === true));
    assert.deepEqual(unseen, [], 'documented metrics the source scan does not see: extend tools/docs/metric-names.ts');
  });

  it('the source scan finds plain and composed names, and skips mentions and comments', () => {
    const src = new Source('x.ts', [
      "r.counter({ name: 'zcsp_a_total', help: 'h' });",
      'r.gauge({ name: "process_b", help: "h" });',
      'r.gauge({ name: `zcsp_${kind}_bytes`, help: "h" });',
      "// r.gauge({ name: 'zcsp_commented' })",
      "log.info('zcsp_a_total{x=\"1\"} is high');",
      "const prefix = 'zcsp_';",
    ].join('\n'));
    const sites = metricNameSites([src]);
    assert.deepEqual(sites.map((s) => s.name), ['zcsp_a_total', 'process_b', '`zcsp_${kind}_bytes`', 'zcsp_']);
    const pattern = sites[2]?.pattern;
    assert.ok(pattern !== undefined);
    assert.equal(pattern.test('zcsp_vra_bytes'), true);
    assert.equal(pattern.test('zcsp_vra_total'), false);
  });

  it('names only metrics that exist, with their own labels and label values, in both documents', async () => {
    const list = processes();
    const series = seriesNames(list);
    const values = new Map(list.flatMap((p) => p.labelValues.flatMap((l) => l.metrics.map((m) => [`${m}/${l.label}`, l.values] as const))));
    const problems: string[] = [];
    for (const file of [METRICS_DOC, TROUBLESHOOTING_DOC]) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/\b(?:zcsp|process)_[A-Za-z0-9_]*(\*)?/g)) {
        // zcsp_vra_* names a family: some metric must start so.
        const known = m[1] === undefined ? series.has(m[0]) : [...series.keys()].some((n) => n.startsWith(m[0].slice(0, -1)));
        if (!known) problems.push(`${file}: ${m[0]} is no metric`);
      }
      for (const m of text.matchAll(/\b((?:zcsp|process)_[A-Za-z0-9_]+)\{([^}]*)\}/g)) {
        const s = series.get(m[1] ?? '');
        if (s === undefined) continue;
        for (const matcher of (m[2] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
          // {label} in prose names a label; {label="v"} in PromQL selects.
          const parsed = /^(\w+)(?:\s*(=~|!~|!=|=)\s*"([^"]*)")?$/.exec(matcher);
          if (parsed === null) {
            problems.push(`${file}: ${m[0]}: cannot read the matcher ${matcher}`);
            continue;
          }
          const [, label = '', op, value = ''] = parsed;
          if (!s.labels.includes(label) && !TARGET_LABELS.has(label)) problems.push(`${file}: ${m[0]}: ${m[1] ?? ''} has no label ${label}`);
          const known = values.get(`${s.metric}/${label}`);
          if (known === undefined || op === undefined || op === '!=' || op === '!~') continue;
          for (const v of op === '=~' ? value.split('|') : [value]) if (!known.includes(v)) problems.push(`${file}: ${m[0]}: ${label}="${v}" is not one of ${known.join(', ')}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('gives every process its port and a metrics table under its own heading', async () => {
    const md = parseMarkdown(await readFile(METRICS_DOC, 'utf8'));
    for (const p of processes()) {
      assert.ok(p.port > 0, `${p.command} has a port`);
      const heading = md.headings.find((h) => h.text === `\`${p.command}\`: port ${p.port}, \`/metrics\``);
      assert.ok(heading !== undefined, `a heading for ${p.command}`);
      const table = md.tables.find((t) => t.h3 === heading.text && t.header[0] === 'metric');
      assert.deepEqual(table?.rows.map((r) => r[0]), p.metrics.map((m) => `\`${m.name}\``));
    }
  });
});
