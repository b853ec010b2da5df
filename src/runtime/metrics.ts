// A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4. Small enough to read in one sitting, so no dependency.
import { RuntimeError } from './errors.ts';

export type Labels = Record<string, string>;

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Default buckets (seconds), as the Go client's DefBuckets. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(options: MetricOptions<L>) {
    if (!NAME.test(options.name)) throw new RuntimeError('InvalidOptions', `invalid metric name ${options.name}`);
    for (const l of options.labelNames ?? []) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le') throw new RuntimeError('InvalidOptions', `invalid label name ${l} on ${options.name}`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  /** The series key: label values in labelNames order; checks every label is given, and no other. */
  protected key(labels: Partial<Record<L, string>>): string {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || !this.labelNames.every((l) => typeof labels[l] === 'string')) {
      throw new RuntimeError('MetricLabels', `${this.name} takes labels [${this.labelNames.join(', ')}], got [${given.join(', ')}]`);
    }
    return JSON.stringify(this.labelNames.map((l) => labels[l]));
  }

  protected labelsOf(key: string): Labels {
    const values = JSON.parse(key) as string[];
    return Object.fromEntries(this.labelNames.map((l, i) => [l, values[i] ?? '']));
  }

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract render(): string;
}

export class Counter<L extends string = never> extends Metric<L> {
  readonly type = 'counter';
  readonly #values = new Map<string, number>();

  inc(labels: Record<L, string>, by = 1): void {
    if (by < 0) throw new RuntimeError('InvalidOptions', `${this.name}: a counter only goes up`);
    const k = this.key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }

  get(labels: Record<L, string>): number {
    return this.#values.get(this.key(labels)) ?? 0;
  }

  /** Every series with its labels: for tests and for summing across labels. */
  series(): { labels: Labels; value: number }[] {
    return [...this.#values].map(([k, value]) => ({ labels: this.labelsOf(k), value }));
  }

  render(): string {
    let out = this.header();
    for (const [k, v] of this.#values) out += `${this.name}${formatLabels(this.labelsOf(k))} ${formatValue(v)}\n`;
    return out;
  }
}

export class Gauge<L extends string = never> extends Metric<L> {
  readonly type = 'gauge';
  readonly #values = new Map<string, number>();
  #collect: (() => void) | undefined;

  /** A function run before every scrape, to set values that are cheaper to read than to track. */
  onCollect(collect: () => void): this {
    this.#collect = collect;
    return this;
  }

  set(labels: Record<L, string>, value: number): void {
    this.#values.set(this.key(labels), value);
  }

  inc(labels: Record<L, string>, by = 1): void {
    const k = this.key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }

  dec(labels: Record<L, string>, by = 1): void {
    this.inc(labels, -by);
  }

  /** Drops a series (a controller that stopped, a watch that is gone). */
  remove(labels: Record<L, string>): void {
    this.#values.delete(this.key(labels));
  }

  /** Drops every series (a collector about to set the ones that still exist). */
  clear(): void {
    this.#values.clear();
  }

  get(labels: Record<L, string>): number | undefined {
    return this.#values.get(this.key(labels));
  }

  render(): string {
    this.#collect?.();
    let out = this.header();
    for (const [k, v] of this.#values) out += `${this.name}${formatLabels(this.labelsOf(k))} ${formatValue(v)}\n`;
    return out;
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #values = new Map<string, HistogramSeries>();

  constructor(options: MetricOptions<L> & { buckets?: readonly number[] }) {
    super(options);
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].filter((b) => b !== Infinity);
    if (buckets.length === 0 || buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] ?? -Infinity))) {
      throw new RuntimeError('InvalidOptions', `${options.name}: buckets must be increasing`);
    }
    this.buckets = buckets;
  }

  observe(labels: Record<L, string>, value: number): void {
    const k = this.key(labels);
    let s = this.#values.get(k);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#values.set(k, s);
    }
    // Counts are stored per bucket and made cumulative when rendered.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  /** Count and sum of one series (for tests). */
  get(labels: Record<L, string>): { count: number; sum: number } {
    const s = this.#values.get(this.key(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  render(): string {
    let out = this.header();
    for (const [k, s] of this.#values) {
      const labels = this.labelsOf(k);
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i] ?? 0;
        out += `${this.name}_bucket${formatLabels(labels, ['le', formatValue(b)])} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${formatLabels(labels, ['le', '+Inf'])} ${s.count}\n`;
      out += `${this.name}_sum${formatLabels(labels)} ${formatValue(s.sum)}\n`;
      out += `${this.name}_count${formatLabels(labels)} ${s.count}\n`;
    }
    return out;
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** The metrics of one process. Registering a name twice is a programming error. */
export class Registry {
  readonly #metrics = new Map<string, AnyMetric>();

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#add(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: MetricOptions<L> & { buckets?: readonly number[] }): Histogram<L> {
    return this.#add(new Histogram<L>(options));
  }

  get(name: string): AnyMetric | undefined {
    return this.#metrics.get(name);
  }

  /** The text exposition format, metrics in registration order. */
  render(): string {
    return [...this.#metrics.values()].map((m) => m.render()).join('');
  }

  #add<M extends Metric<string>>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new RuntimeError('MetricExists', `metric ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric as unknown as AnyMetric);
    return metric;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
