// `node tools/docs/metrics.ts`: rewrites the reference part of docs/metrics.md from the metrics
// registries themselves. Each process's registry is built the way the process builds it (no server,
// no cluster), and every metric's name, type, help, labels and buckets are read back from it, so
// the reference says exactly what a scrape shows. The prose around it (alerts, scraping) is
// written by hand; metrics.test.ts holds both to the code.
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorControllers } from '../../src/controllers/index.ts';
import { VRA_HEALTH_PORT } from '../../src/controllers/labels.ts';
import { PHASES, SYNC_STATES, VpgMetrics } from '../../src/controllers/vpg/metrics.ts';
import { ZCC_HEALTH_PORT } from '../../src/controllers/zcc/objects.ts';
import { parseManagerFlags } from '../../src/manager/options.ts';
import { LEADER_LEASE_NAME } from '../../src/manager/run.ts';
import { Histogram, Registry, silentLogger } from '../../src/runtime/index.ts';
import { createRuntimeMetrics } from '../../src/runtime/runtime-metrics.ts';
import { vraMetrics } from '../../src/vra/metrics.ts';
import { StreamRegistry } from '../../src/vra/registry.ts';
import { proxyMetrics } from '../../src/zcc/proxy.ts';
import { docPath } from './markdown.ts';
import { ROOT, Source } from './source-scan.ts';

export const METRICS_DOC = docPath('metrics.md');
export const BEGIN = '<!-- BEGIN GENERATED: node tools/docs/metrics.ts -->';
export const END = '<!-- END GENERATED -->';

export interface MetricInfo {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

export interface ProcessMetrics {
  /** The command that serves them. */
  command: string;
  port: number;
  metrics: MetricInfo[];
  /** Values a label takes, where the code enumerates them: label → metrics → values. */
  labelValues: { label: string; metrics: string[]; values: readonly string[] }[];
}

/** Every metric a registry serves, in the order of a scrape. */
export function describeRegistry(registry: Registry): MetricInfo[] {
  const names = [...registry.render().matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1] ?? '');
  return names.map((name) => {
    const m = registry.get(name);
    if (m === undefined) throw new Error(`${name} is rendered but not registered`);
    return { name, type: m.type, help: m.help, labels: m.labelNames, ...(m instanceof Histogram && { buckets: m.buckets }) };
  });
}

/** The registries of the processes that serve /metrics, built as the processes build them. */
export function processes(): ProcessMetrics[] {
  const manager = new Registry();
  createRuntimeMetrics(manager);
  // The VPG controller registers these on the manager's registry when it starts.
  new VpgMetrics(manager);
  // The VRA's figures are read from its streams at scrape time: an empty registry (never loaded,
  // so it reads nothing from disk) has none, and only the definitions matter here.
  const noStreams = new StreamRegistry(join(tmpdir(), 'zcsp-docs-no-streams'), silentLogger());
  const zcc = new Registry();
  proxyMetrics(zcc);
  const controllers = operatorControllers({ namespace: '<namespace>', image: 'image', imagePullSecrets: [], managedByLabel: 'app.kubernetes.io/managed-by' }).map((c) => c.name);
  const managerMetrics = describeRegistry(manager);
  const labelled = (label: string): string[] => managerMetrics.filter((m) => m.labels.includes(label)).map((m) => m.name);
  return [
    {
      command: 'zcsp manager',
      port: parseManagerFlags([])?.httpPort ?? 0,
      metrics: managerMetrics,
      labelValues: [
        { label: 'controller', metrics: labelled('controller'), values: controllers },
        { label: 'name', metrics: labelled('name'), values: controllers },
        { label: 'lease', metrics: labelled('lease'), values: [`<namespace>/${LEADER_LEASE_NAME}`] },
        { label: 'phase', metrics: ['zcsp_vpg_phase'], values: PHASES },
        { label: 'state', metrics: ['zcsp_vpg_sync_state'], values: SYNC_STATES },
      ],
    },
    {
      command: 'zcsp vra',
      port: VRA_HEALTH_PORT,
      metrics: describeRegistry(vraMetrics(noStreams)),
      labelValues: [
        { label: 'state', metrics: ['zcsp_vra_sync_state'], values: constStrings('src/vra/metrics.ts', 'SYNC_STATES') },
        { label: 'state', metrics: ['zcsp_vra_volume_sync_state'], values: constStrings('src/vra/metrics.ts', 'VOLUME_STATES') },
        { label: 'state', metrics: ['zcsp_vra_assess_state'], values: constStrings('src/vra/metrics.ts', 'ASSESS_STATES') },
      ],
    },
    { command: 'zcsp zcc', port: ZCC_HEALTH_PORT, metrics: describeRegistry(zcc), labelValues: [] },
  ];
}

/** The strings of a constant list the module keeps to itself (the states a VRA collector sets). */
function constStrings(file: string, name: string): string[] {
  const v = new Source(file, readFileSync(join(ROOT, file), 'utf8')).entryValues(name);
  if (v.unresolved || v.templates.size > 0 || v.literals.size === 0) throw new Error(`${file}: cannot read the values of ${name}`);
  return [...v.literals];
}

const code = (s: string): string => `\`${s}\``;
const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderReference(list: readonly ProcessMetrics[] = processes()): string {
  const out: string[] = [BEGIN, '<!-- Written from the metrics registries by `node tools/docs/metrics.ts`; edit the code, not this part. -->', ''];
  for (const p of list) {
    out.push(`### \`${p.command}\`: port ${p.port}, \`/metrics\``, '');
    out.push('| metric | type | labels | help |', '| --- | --- | --- | --- |');
    for (const m of p.metrics) out.push(`| ${code(m.name)} | ${m.type} | ${m.labels.map(code).join(', ') || '–'} | ${cell(m.help)} |`);
    out.push('');
    const histograms = p.metrics.filter((m) => m.buckets !== undefined);
    const byBuckets = new Map<string, string[]>();
    for (const h of histograms) byBuckets.set((h.buckets ?? []).join(', '), [...(byBuckets.get((h.buckets ?? []).join(', ')) ?? []), h.name]);
    for (const [buckets, names] of byBuckets) {
      out.push(`Histograms ${names.map(code).join(', ')} (series \`_bucket\`, \`_sum\`, \`_count\`): buckets ${buckets} and +Inf.`, '');
    }
    if (p.labelValues.length > 0) {
      out.push('Label values:', '');
      for (const l of p.labelValues) out.push(`- ${code(l.label)} of ${l.metrics.map(code).join(', ')}: ${l.values.map(code).join(', ')}`);
      out.push('');
    }
  }
  out.push(END);
  return out.join('\n');
}

/** The document with its generated part replaced. */
export function withReference(doc: string, reference: string = renderReference()): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/metrics.md has no ${BEGIN} … ${END} part`);
  return doc.slice(0, begin) + reference + doc.slice(end + END.length);
}

if (import.meta.main) {
  await writeFile(METRICS_DOC, withReference(await readFile(METRICS_DOC, 'utf8')));
  process.stdout.write(`wrote ${METRICS_DOC}\n`);
}
