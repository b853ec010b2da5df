// A keyed, de-duplicating work queue with per-key backoff and delayed adds: client-go's workqueue
// semantics, which is what makes level-triggered reconciling cheap and safe.
//
// - A key added while it already waits is queued once (`dirty`).
// - A key added while a worker processes it is not handed to a second worker: it is queued again
//   when the first finishes (`processing`), so the latest state is always reconciled after the
//   change that triggered it, and never by two workers at once.
// - `addAfter` keeps the earliest of several pending delays of one key.
// - `shutdown({ drain: true })` stops accepting keys and lets workers finish what was queued;
//   `drain: false` only waits for the keys in flight. Delayed keys are dropped either way: with
//   level-triggered reconciles the next start re-lists everything.
import { KeyedBackoff, type BackoffOptions } from './backoff.ts';

/** Hooks a metrics registry plugs into; all optional. */
export interface WorkQueueMetrics {
  /** Keys waiting to be processed (not counting delayed or in-flight ones). */
  depth?(depth: number): void;
  /** Every add that was accepted (including de-duplicated ones, as in client-go). */
  add?(): void;
  /** Every rate-limited re-add: a retry after an error. */
  retry?(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queueLatency?(seconds: number): void;
  /** Seconds between a worker taking a key and calling done. */
  processingDuration?(seconds: number): void;
}

export interface WorkQueueOptions {
  backoff?: BackoffOptions;
  metrics?: WorkQueueMetrics;
}

export const DEFAULT_QUEUE_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 300_000, factor: 2, jitter: 0.2 };

interface Delayed {
  timer: ReturnType<typeof setTimeout>;
  readyAt: number;
}

export class WorkQueue<K = string> {
  readonly #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #waiters: ((key: K | undefined) => void)[] = [];
  readonly #delayed = new Map<K, Delayed>();
  readonly #enqueuedAt = new Map<K, number>();
  readonly #startedAt = new Map<K, number>();
  readonly #backoff: KeyedBackoff<K>;
  readonly #metrics: WorkQueueMetrics;
  #shuttingDown = false;
  #drained: (() => void) | undefined;
  #drainedPromise: Promise<void> | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.#backoff = new KeyedBackoff<K>(options.backoff ?? DEFAULT_QUEUE_BACKOFF);
    this.#metrics = options.metrics ?? {};
  }

  /** Keys waiting for a worker. */
  get length(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Whether a worker holds the key right now. */
  isProcessing(key: K): boolean {
    return this.#processing.has(key);
  }

  add(key: K): void {
    if (this.#shuttingDown) return;
    this.#metrics.add?.();
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // In flight: done() queues it again.
    if (this.#processing.has(key)) return;
    this.#enqueuedAt.set(key, performance.now());
    this.#queue.push(key);
    this.#depthChanged();
    this.#dispatch();
  }

  /** Adds the key after `delayMs`; of several pending delays of one key, the earliest wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = Date.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep a stopping process alive.
    timer.unref();
    this.#delayed.set(key, { timer, readyAt });
  }

  /** Adds the key after its next backoff delay: a retry after a failure. */
  addRateLimited(key: K): number {
    const delay = this.#backoff.next(key);
    this.#metrics.retry?.();
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff (after a success, or when giving up on it). */
  forget(key: K): void {
    this.#backoff.forget(key);
  }

  /** Failures recorded for the key since it last succeeded. */
  retries(key: K): number {
    return this.#backoff.failures(key);
  }

  /** The next key to process, or undefined once the queue shut down (and, draining, emptied). */
  get(): Promise<K | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A worker finished the key: if it was added meanwhile, it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#metrics.processingDuration?.((performance.now() - started) / 1000);
    if (this.#dirty.has(key)) {
      this.#enqueuedAt.set(key, performance.now());
      this.#queue.push(key);
      this.#depthChanged();
      this.#dispatch();
    }
    this.#checkDrained();
  }

  /**
   * Stops accepting keys. With `drain`, workers still get every key queued so far; without, the
   * waiting keys are dropped. Resolves once no key is in flight and none waits.
   */
  shutdown(options: { drain: boolean }): Promise<void> {
    if (this.#drainedPromise === undefined) {
      this.#drainedPromise = new Promise((resolve) => {
        this.#drained = resolve;
      });
      this.#shuttingDown = true;
      for (const d of this.#delayed.values()) clearTimeout(d.timer);
      this.#delayed.clear();
    }
    if (!options.drain) {
      this.#queue.length = 0;
      this.#dirty.clear();
      this.#enqueuedAt.clear();
      this.#depthChanged();
    }
    this.#checkDrained();
    return this.#drainedPromise;
  }

  #take(): K {
    const key = this.#queue.shift() as K;
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = performance.now();
    const enqueued = this.#enqueuedAt.get(key);
    this.#enqueuedAt.delete(key);
    if (enqueued !== undefined) this.#metrics.queueLatency?.((now - enqueued) / 1000);
    this.#startedAt.set(key, now);
    this.#depthChanged();
    return key;
  }

  #dispatch(): void {
    while (this.#waiters.length > 0 && this.#queue.length > 0) {
      const waiter = this.#waiters.shift();
      waiter?.(this.#take());
    }
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || this.#queue.length > 0) return;
    // Nothing left to hand out: idle workers exit.
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    if (this.#processing.size === 0) this.#drained?.();
  }

  #depthChanged(): void {
    this.#metrics.depth?.(this.#queue.length);
  }
}

/**
 * Runs `count` workers that take keys from the queue and call `handle`, one key per worker at a
 * time, until the queue shuts down. Resolves when every worker has exited. `handle` should deal
 * with its own errors; one that escapes goes to `onError` and the worker carries on.
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  count: number,
  handle: (key: K) => Promise<void>,
  onError: (key: K, err: unknown) => void = () => undefined,
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
      } catch (err: unknown) {
        onError(key, err);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, count) }, worker));
}
