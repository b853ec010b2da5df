// Exponential backoff with jitter, for retries of reconciles, watch reconnects and lease renewals.
//
// The jitter only ever shortens a delay (delay × (1 − jitter × random)), so `maxMs` is a real cap
// and tests can check the growth deterministically by injecting `random`.
import { RuntimeError } from './errors.ts';

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** No delay is ever longer. */
  maxMs: number;
  /** Growth per failure; default 2. */
  factor?: number;
  /** Fraction of a delay randomly taken off, 0–1; default 0.2. Spreads retries of many keys apart. */
  jitter?: number;
  /** For tests; default Math.random. */
  random?: () => number;
}

export function validateBackoff(options: BackoffOptions): void {
  const { baseMs, maxMs, factor = 2, jitter = 0.2 } = options;
  if (!(baseMs > 0) || !(maxMs >= baseMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new RuntimeError('InvalidOptions', `backoff needs 0 < baseMs <= maxMs, factor >= 1, 0 <= jitter <= 1 (got ${JSON.stringify({ baseMs, maxMs, factor, jitter })})`);
  }
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs, factor = 2, jitter = 0.2, random = Math.random } = options;
  // Cap the exponent too: 2 ** 2000 is Infinity, and Infinity × 0 jitter is NaN.
  const raw = baseMs * factor ** Math.min(attempt, 1000);
  const capped = Math.min(maxMs, Number.isFinite(raw) ? raw : maxMs);
  return Math.max(0, Math.round(capped * (1 - jitter * random())));
}

/** One sequence of retries: a reconnect loop. */
export class Backoff {
  readonly #options: BackoffOptions;
  #attempt = 0;
  constructor(options: BackoffOptions) {
    validateBackoff(options);
    this.#options = options;
  }
  next(): number {
    return backoffDelay(this.#attempt++, this.#options);
  }
  reset(): void {
    this.#attempt = 0;
  }
  get attempts(): number {
    return this.#attempt;
  }
}

/** Per-key failure counts: the work queue's rate limiter (client-go's ItemExponentialFailureRateLimiter). */
export class KeyedBackoff<K> {
  readonly #options: BackoffOptions;
  readonly #failures = new Map<K, number>();
  constructor(options: BackoffOptions) {
    validateBackoff(options);
    this.#options = options;
  }
  /** Records a failure of `key` and returns how long to wait before retrying it. */
  next(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return backoffDelay(n, this.#options);
  }
  /** The key succeeded (or gave up): its next failure starts from baseMs again. */
  forget(key: K): void {
    this.#failures.delete(key);
  }
  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
