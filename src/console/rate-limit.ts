// Failed sign-ins per remote address in a sliding window: past the limit, the address is refused
// until its oldest failure leaves the window. Only failures count, so a user who signs in
// correctly is never slowed down by the limit.

export interface RateLimitOptions {
  /** Failures allowed in the window (default 10). */
  limit?: number;
  /** The window (default one minute). */
  windowMs?: number;
  now?: () => number;
}

export class FailureLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #failures = new Map<string, number[]>();

  constructor(options: RateLimitOptions = {}) {
    this.#limit = options.limit ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  #recent(key: string): number[] {
    const since = this.#now() - this.#windowMs;
    const times = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const times = this.#recent(key);
    if (times.length < this.#limit) return 0;
    const oldest = times[times.length - this.#limit] ?? this.#now();
    return Math.max(1, oldest + this.#windowMs - this.#now());
  }

  fail(key: string): void {
    const times = this.#recent(key);
    times.push(this.#now());
    this.#failures.set(key, times.slice(-this.#limit));
  }

  /** Drops addresses with no failure left in the window (called now and then). */
  sweep(): void {
    for (const key of [...this.#failures.keys()]) this.#recent(key);
  }

  get size(): number {
    return this.#failures.size;
  }
}
