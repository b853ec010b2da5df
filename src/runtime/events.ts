// Kubernetes Events (events.k8s.io/v1) for the objects the controllers act on, aggregated the way
// client-go's events library does it, so that a hot loop cannot flood the API server:
//
// - The first occurrence of an event (same object, type, reason, action, note) creates an Event.
// - Repeats within `seriesWindowMs` only bump an in-memory count; a flush every `seriesFlushMs`
//   writes the count and last time as the Event's `series` (one patch per Event per flush, however
//   many repeats happened).
// - New Events per object are rate limited by a token bucket (client-go's spam filter: a burst of
//   25, then one per 5 minutes); what goes over is dropped and counted.
// Recording never blocks or fails a reconcile: write errors are logged and counted.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { microTime } from './conditions.ts';
import { errorMessage, isNotFound } from './errors.ts';
import { silentLogger } from './logger.ts';
import { EVENTS } from './resources.ts';
import type { Event, KubeObject, ObjectReference } from './types.ts';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  /** CamelCase: why (FailoverStarted, InvalidSpec). */
  reason: string;
  /** CamelCase: what was done or failed (Failover, Reconcile). */
  action: string;
  /** For people; cut to 1 kB. */
  note?: string;
  related?: KubeObject;
}

export interface EventMetrics {
  /** An event was recorded (before aggregation). */
  recorded?(type: string): void;
  /** A new Event was dropped by the per-object rate limit. */
  dropped?(): void;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** Who reports: zcsp.io/manager. */
  reportingController: string;
  /** Which instance: the pod's identity. */
  reportingInstance: string;
  logger?: Logger;
  metrics?: EventMetrics;
  seriesFlushMs?: number;
  seriesWindowMs?: number;
  burst?: number;
  refillMs?: number;
  maxEntries?: number;
}

interface Entry {
  namespace: string;
  name: string;
  count: number;
  writtenCount: number;
  lastObserved: Date;
  created: Promise<boolean>;
}

interface Bucket {
  tokens: number;
  at: number;
}

function reference(obj: KubeObject): ObjectReference {
  const ref: ObjectReference = {};
  const m = obj.metadata;
  if (obj.apiVersion !== undefined) ref.apiVersion = obj.apiVersion;
  if (obj.kind !== undefined) ref.kind = obj.kind;
  if (m?.name !== undefined) ref.name = m.name;
  if (m?.namespace !== undefined) ref.namespace = m.namespace;
  if (m?.uid !== undefined) ref.uid = m.uid;
  if (m?.resourceVersion !== undefined) ref.resourceVersion = m.resourceVersion;
  return ref;
}

export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'logger' | 'metrics'>>;
  readonly #log: Logger;
  readonly #metrics: EventMetrics;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #inflight = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: EventRecorderOptions) {
    this.#o = {
      client: options.client,
      reportingController: options.reportingController,
      reportingInstance: options.reportingInstance.slice(0, 128),
      seriesFlushMs: options.seriesFlushMs ?? 30_000,
      seriesWindowMs: options.seriesWindowMs ?? 6 * 60_000,
      burst: options.burst ?? 25,
      refillMs: options.refillMs ?? 5 * 60_000,
      maxEntries: options.maxEntries ?? 4096,
    };
    this.#log = options.logger ?? silentLogger();
    this.#metrics = options.metrics ?? {};
  }

  /** Records an event about `regarding`. Returns at once; the write happens in the background. */
  event(regarding: KubeObject, spec: EventSpec): void {
    if (this.#closed) return;
    this.#metrics.recorded?.(spec.type);
    const now = new Date();
    const ref = reference(regarding);
    const note = spec.note === undefined ? undefined : truncate(spec.note, 1024);
    const objectId = ref.uid ?? `${ref.kind ?? ''}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
    const key = JSON.stringify([objectId, spec.type, spec.reason, spec.action, note ?? '']);
    const entry = this.#entries.get(key);
    if (entry !== undefined && now.getTime() - entry.lastObserved.getTime() < this.#o.seriesWindowMs) {
      entry.count++;
      entry.lastObserved = now;
      this.#ensureTimer();
      return;
    }
    if (!this.#take(objectId, now.getTime())) {
      this.#metrics.dropped?.();
      return;
    }
    const namespace = ref.namespace ?? 'default';
    const name = `${ref.name ?? 'object'}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`;
    const event: Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance,
      action: spec.action,
      reason: spec.reason,
      regarding: ref,
      type: spec.type,
      ...(note !== undefined && { note }),
      ...(spec.related !== undefined && { related: reference(spec.related) }),
    };
    const created = this.#track(this.#o.client.create(EVENTS, event).then(
      () => true,
      (err: unknown) => {
        this.#log.warn({ err: errorMessage(err), reason: spec.reason, regarding: ref }, 'could not record an event');
        return false;
      },
    ));
    this.#entries.delete(key);
    this.#entries.set(key, { namespace, name, count: 1, writtenCount: 1, lastObserved: now, created });
    this.#prune(now.getTime());
  }

  /** Writes the pending series counts now. */
  async flush(): Promise<void> {
    const now = Date.now();
    const writes: Promise<unknown>[] = [];
    for (const [key, e] of this.#entries) {
      if (e.count === e.writtenCount) continue;
      const count = e.count;
      const lastObservedTime = microTime(e.lastObserved);
      writes.push(this.#track((async () => {
        if (!(await e.created)) return;
        try {
          await this.#o.client.mergePatch(EVENTS, e.name, e.namespace, { series: { count, lastObservedTime } });
          e.writtenCount = count;
        } catch (err: unknown) {
          // Gone (Events expire after an hour): the next occurrence starts a new one.
          if (isNotFound(err)) this.#entries.delete(key);
          else this.#log.warn({ err: errorMessage(err), event: e.name }, 'could not update an event series');
        }
      })()));
    }
    await Promise.all(writes);
    this.#prune(now);
  }

  /** Flushes, waits for writes in flight, and stops recording. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#closed = true;
    await Promise.all([...this.#inflight]);
  }

  #ensureTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.flush(), this.#o.seriesFlushMs);
    this.#timer.unref();
  }

  #take(objectId: string, now: number): boolean {
    const b = this.#buckets.get(objectId) ?? { tokens: this.#o.burst, at: now };
    b.tokens = Math.min(this.#o.burst, b.tokens + (now - b.at) / this.#o.refillMs);
    b.at = now;
    this.#buckets.delete(objectId);
    this.#buckets.set(objectId, b);
    if (this.#buckets.size > this.#o.maxEntries) this.#buckets.delete(this.#buckets.keys().next().value ?? '');
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets series that ended (written and out of their window) and bounds memory. */
  #prune(now: number): void {
    for (const [key, e] of this.#entries) {
      if (e.count === e.writtenCount && now - e.lastObserved.getTime() >= this.#o.seriesWindowMs) this.#entries.delete(key);
    }
    while (this.#entries.size > this.#o.maxEntries) this.#entries.delete(this.#entries.keys().next().value ?? '');
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const forget = (): void => void this.#inflight.delete(p);
    p.then(forget, forget);
    return p;
  }
}

function truncate(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}
