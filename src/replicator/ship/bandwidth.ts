// A token bucket on wire bytes: the sender takes a frame's size before writing it. The bucket may
// go into debt by one frame (frames are larger than a sensible burst at low rates), and the next
// take waits until the debt is paid. The rate can change at any time; waiting takers re-plan.

export interface BucketStats {
  /** Bytes let through, in total. */
  grantedBytes: number;
  /** Takes that had to wait. */
  waits: number;
  /** Waiting the bucket planned, in total (ms): the debt it charged at the rate then in force. */
  plannedWaitMs: number;
  /** The bucket's clock at the first and the last grant (ms). */
  firstGrantAt: number | undefined;
  lastGrantAt: number | undefined;
}

export interface TokenBucketOptions {
  /** Bytes per second; undefined: unlimited. */
  rate?: number | undefined;
  /** Burst in bytes; default a quarter second of the rate, at least 64 KiB. */
  burstBytes?: number;
  /** For tests; default performance.now. */
  now?: () => number;
}

export class TokenBucket {
  private rateBps: number | undefined;
  private readonly burstOption: number | undefined;
  private tokens: number;
  private refilledAt: number;
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private closed = false;
  readonly stats: BucketStats = { grantedBytes: 0, waits: 0, plannedWaitMs: 0, firstGrantAt: undefined, lastGrantAt: undefined };

  constructor(options: TokenBucketOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.burstOption = options.burstBytes;
    this.rateBps = checkRate(options.rate);
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  get rate(): number | undefined {
    return this.rateBps;
  }

  get burst(): number {
    return this.burstOption ?? Math.max(64 * 1024, (this.rateBps ?? 0) / 4);
  }

  /** Changes the rate (undefined: unlimited); a waiting take re-plans at once. */
  setRate(rate: number | undefined): void {
    this.refill();
    this.rateBps = checkRate(rate);
    this.tokens = Math.min(this.tokens, this.burst);
    this.wake?.();
  }

  /** Resolves when `bytes` may be sent. Takes are served in call order. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(bytes));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Wakes and fails waiting takes (the link is going away). */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private async takeNow(bytes: number): Promise<void> {
    let waited = false;
    for (;;) {
      if (this.closed) throw new Error('bandwidth limiter closed');
      this.refill();
      if (this.rateBps === undefined || this.tokens >= 0) break;
      const rate = this.rateBps;
      const waitMs = (-this.tokens / rate) * 1000;
      if (!waited) this.stats.waits++;
      waited = true;
      this.stats.plannedWaitMs += waitMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, Math.ceil(waitMs));
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
    if (this.rateBps !== undefined) this.tokens -= bytes;
    const at = this.now();
    this.stats.grantedBytes += bytes;
    this.stats.firstGrantAt ??= at;
    this.stats.lastGrantAt = at;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    if (this.rateBps === undefined) {
      this.tokens = this.burst;
      return;
    }
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rateBps);
  }
}

function checkRate(rate: number | undefined): number | undefined {
  if (rate === undefined) return undefined;
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`bandwidth ${rate} bytes/s is not a positive number`);
  return rate;
}
