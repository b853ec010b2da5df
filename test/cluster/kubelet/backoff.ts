// Timing rules: the kubelet's crash-loop back-off, retry back-off for API errors, and a deadline
// that can be brought forward (a pod deleted again with a shorter grace period).

/**
 * The kubelet's per-container restart back-off (flowcontrol.Backoff keyed by container): the first
 * restart is immediate, then initial, doubling up to max; a container that ran longer than
 * 2×max since the last restart starts over from the beginning.
 */
export class CrashLoopBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  #currentMs: number | undefined;
  #lastUpdate = 0;

  constructor(initialMs: number, maxMs: number) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
  }

  /** Milliseconds to wait before restarting a container that finished at `finishedAt` (0: restart now). */
  remaining(finishedAt: number, now: number): number {
    if (this.#currentMs === undefined) return 0;
    return Math.max(0, this.#currentMs - (now - finishedAt));
  }

  /** Records a restart that happens now; the next crash waits longer. */
  recordRestart(finishedAt: number, now: number): void {
    if (this.#currentMs === undefined || finishedAt - this.#lastUpdate > 2 * this.maxMs) this.#currentMs = this.initialMs;
    else this.#currentMs = Math.min(this.#currentMs * 2, this.maxMs);
    this.#lastUpdate = now;
  }

  /** The current back-off, as the CrashLoopBackOff message shows it. */
  get currentMs(): number {
    return this.#currentMs ?? 0;
  }
}

/** Exponential retry delays for failed reconciles: base, 2×base, … up to max; reset on success. */
export class RetryBackoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failures = 0;

  constructor(baseMs: number, maxMs: number) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  next(): number {
    const delay = Math.min(this.#baseMs * 2 ** this.#failures, this.#maxMs);
    this.#failures++;
    return delay;
  }

  reset(): void {
    this.#failures = 0;
  }
}

/** A duration the way Go prints it (time.Duration.String), as kubelet messages show it: "10s", "2m40s", "500ms". */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** A point in time that resolves `reached`; it can be moved earlier, never later. */
export class Deadline {
  #at: number;
  #timer: NodeJS.Timeout | undefined;
  #resolve!: () => void;
  readonly reached: Promise<void>;

  constructor(at: number) {
    this.#at = at;
    this.reached = new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
    this.#arm();
  }

  get at(): number {
    return this.#at;
  }

  bringForward(at: number): void {
    if (at >= this.#at) return;
    this.#at = at;
    this.#arm();
  }

  /** Resolves `reached` now (everything it guarded is done) and drops the timer. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#resolve();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#resolve(), Math.max(0, this.#at - Date.now()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `p`, at most `ms`; the timer goes with it (a sleep left pending holds the process). */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
