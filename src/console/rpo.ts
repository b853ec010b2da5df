// The RPO history of every VPG, for the console's charts: the console samples status.rpoSeconds
// of all VPGs (with its own identity) at a fixed interval into a bounded ring per VPG. Memory is
// bounded: capacity samples per VPG, and the rings of VPGs that are gone are dropped.
import type { KubeClient } from '../runtime/index.ts';
import { VPGS } from '../controllers/resources.ts';
import type { Vpg } from '../kubectl/vpg.ts';

export interface RpoSample {
  /** Milliseconds since the epoch. */
  t: number;
  /** status.rpoSeconds then; null when the VPG reported none. */
  rpoSeconds: number | null;
}

/** A fixed-size ring of samples, oldest overwritten first. */
export class RpoRing {
  readonly #times: Float64Array;
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${String(capacity)}`);
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  get length(): number {
    return this.#count;
  }

  push(sample: RpoSample): void {
    this.#times[this.#next] = sample.t;
    this.#values[this.#next] = sample.rpoSeconds ?? Number.NaN;
    this.#next = (this.#next + 1) % this.#times.length;
    this.#count = Math.min(this.#count + 1, this.#times.length);
  }

  /** The samples taken at or after `since`, oldest first. */
  since(since: number): RpoSample[] {
    const out: RpoSample[] = [];
    const capacity = this.#times.length;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#next - this.#count + i + capacity) % capacity;
      const t = this.#times[at] ?? 0;
      if (t < since) continue;
      const v = this.#values[at] ?? Number.NaN;
      out.push({ t, rpoSeconds: Number.isNaN(v) ? null : v });
    }
    return out;
  }
}

export interface RpoHistoryOptions {
  /** How often to sample (default 30 s). */
  intervalMs?: number;
  /** How far back to keep (default 24 h). */
  retentionMs?: number;
  now?: () => number;
}

/** The rings of all VPGs, keyed namespace/name, and the loop that fills them. */
export class RpoHistory {
  readonly intervalMs: number;
  readonly retentionMs: number;
  readonly #now: () => number;
  readonly #rings = new Map<string, RpoRing>();
  #timer: NodeJS.Timeout | undefined;
  #lastError: unknown;

  constructor(options: RpoHistoryOptions = {}) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.#now = options.now ?? Date.now;
  }

  get capacity(): number {
    return Math.ceil(this.retentionMs / this.intervalMs) + 1;
  }

  /** Adds one sample per VPG listed; drops the rings of VPGs not listed. */
  record(vpgs: readonly Vpg[]): void {
    const t = this.#now();
    const seen = new Set<string>();
    for (const vpg of vpgs) {
      const key = `${vpg.metadata?.namespace ?? ''}/${vpg.metadata?.name ?? ''}`;
      seen.add(key);
      let ring = this.#rings.get(key);
      if (ring === undefined) {
        ring = new RpoRing(this.capacity);
        this.#rings.set(key, ring);
      }
      ring.push({ t, rpoSeconds: vpg.status?.rpoSeconds ?? null });
    }
    for (const key of [...this.#rings.keys()]) if (!seen.has(key)) this.#rings.delete(key);
  }

  /** The samples of the last `hours` (capped at the retention); undefined for an unknown VPG. */
  series(namespace: string, name: string, hours: number): RpoSample[] | undefined {
    const ms = Math.min(hours * 3600_000, this.retentionMs);
    return this.#rings.get(`${namespace}/${name}`)?.since(this.#now() - ms);
  }

  /** The error of the latest sampling, if it failed (for /readyz-like reporting). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Lists every VPG with `client` now and then every interval, until stop(). */
  start(client: KubeClient): void {
    const sample = async (): Promise<void> => {
      try {
        const items: Vpg[] = [];
        let next: string | undefined;
        do {
          const page = await client.list(VPGS, { limit: 500, continue: next });
          items.push(...page.items as Vpg[]);
          next = page.metadata?.continue;
        } while (next !== undefined && next !== '');
        this.record(items);
        this.#lastError = undefined;
      } catch (err: unknown) {
        this.#lastError = err;
      }
    };
    const loop = (): void => {
      void sample().finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(loop, this.intervalMs);
      });
    };
    this.#timer = setTimeout(loop, 0);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
