// How fast each volume of a stream changes: the bytes its capture records as changed, raw and as
// encoded for the wire, in buckets of bucketSeconds over a rolling window of 7 days. It is what a
// tenant sizes the journal, the link and the recovery site by, so it counts what replication
// would carry (a source's shipped changes, an assessment's would-be ones), never syncs.
//
// Time is counted too, per volume and bucket: only while the volume is being measured (a source
// volume in sync, an assessed one past its baseline, the VRA up), so a rate is bytes per measured
// hour and an outage or a sync does not dilute it.
//
// Rates, per volume:
//   average  bytes in the window × 3600 / measured seconds in the window
//   peak     the busiest bucket: its bytes × 3600 / its measured seconds
// Both divide by at least min(60 s, bucketSeconds): a burst seen in the first seconds of a
// measurement or of a bucket (the one still filling counts by the time measured in it so far) is
// not extrapolated to an hour from a few seconds. The peak is never below the average (buckets
// measured only in part at the window's edges could otherwise make it so). Rates are whole bytes
// per hour rounded up, measuredSeconds whole seconds rounded down.
//
// The meter itself is pure (clock injected); ChangeRateRecorder below keeps it in a file of the
// VRA's data dir, written at each bucket rollover and when the stream stops, so a restarted VRA
// resumes the window. What was counted since the last write is lost with a crash: at most one
// bucket of a measurement, never anything replicated.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { writeFileDurably } from '../replicator/durable.ts';

export const DEFAULT_BUCKET_SECONDS = 300;
export const WINDOW_SECONDS = 7 * 24 * 3600;
/** The least time a rate is divided by (or the bucket's length, when shorter). */
const RATE_FLOOR_SECONDS = 60;
const FORMAT_VERSION = 1;

/** One volume's change rate over the window (GET /v1/streams/{id}: each volume's `changeRate`). */
export interface ChangeRate {
  /** When this volume's measurement began (kept across VRA restarts). */
  since: string;
  /** Seconds measured inside the window (not while the VRA was down or the volume syncing). */
  measuredSeconds: number;
  windowSeconds: number;
  bucketSeconds: number;
  /** Bytes changed in the window, as captured: write data plus each op's own bytes. */
  rawBytes: number;
  /** The same records as encoded for the wire (zstd where it pays, per the stream's compress). */
  compressedBytes: number;
  averageRawBytesPerHour: number;
  averageCompressedBytesPerHour: number;
  peakRawBytesPerHour: number;
  peakCompressedBytesPerHour: number;
}

/** Bytes counted per volume for as long as the process runs (what a metrics counter follows). */
export type CountedBytes = Map<string, { rawBytes: number; compressedBytes: number }>;

export interface ChangeRateMeterOptions {
  bucketSeconds?: number;
  windowSeconds?: number;
  now?: () => number;
  /**
   * Running totals kept by the owner, so a stream restarted in the same process goes on from
   * where its counters were; default: the meter's own.
   */
  counted?: CountedBytes;
}

interface Bucket {
  /** ms since the epoch, a multiple of the bucket's length. */
  start: number;
  raw: number;
  compressed: number;
  measuredMs: number;
}

interface VolumeMeter {
  since: number;
  /** In order of start; buckets with nothing in them are not kept. */
  buckets: Bucket[];
  /** While measured: the time up to which measured time has been added. */
  measuringFrom: number | undefined;
}

export class ChangeRateError extends Error {
  override readonly name = 'ChangeRateError';
}

export class ChangeRateMeter {
  readonly bucketSeconds: number;
  readonly windowSeconds: number;
  readonly #now: () => number;
  readonly #volumes = new Map<string, VolumeMeter>();
  readonly #counted: CountedBytes;

  constructor(o: ChangeRateMeterOptions = {}) {
    const bucketSeconds = o.bucketSeconds ?? DEFAULT_BUCKET_SECONDS;
    const windowSeconds = o.windowSeconds ?? WINDOW_SECONDS;
    if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) throw new ChangeRateError(`bucketSeconds: ${bucketSeconds} is not a whole number of seconds of at least 1`);
    if (!Number.isInteger(windowSeconds) || windowSeconds < bucketSeconds) throw new ChangeRateError(`windowSeconds: ${windowSeconds} is not a whole number of seconds of at least bucketSeconds (${bucketSeconds})`);
    this.bucketSeconds = bucketSeconds;
    this.windowSeconds = windowSeconds;
    this.#now = o.now ?? Date.now;
    this.#counted = o.counted ?? new Map<string, { rawBytes: number; compressedBytes: number }>();
  }

  /** The volumes the meter has a measurement of. */
  volumes(): string[] {
    return [...this.#volumes.keys()];
  }

  /**
   * Starts or stops counting a volume's time. Starting a volume the meter does not know begins its
   * measurement (`since`); stopping keeps what it has.
   */
  measure(volume: string, on: boolean): void {
    const now = this.#now();
    let v = this.#volumes.get(volume);
    if (v === undefined) {
      if (!on) return;
      v = { since: now, buckets: [], measuringFrom: undefined };
      this.#volumes.set(volume, v);
    }
    this.#accrue(v, now);
    v.measuringFrom = on ? now : undefined;
  }

  isMeasuring(volume: string): boolean {
    return this.#volumes.get(volume)?.measuringFrom !== undefined;
  }

  /** Counts changed bytes of a volume now; a volume the meter does not know is not counted. */
  count(volume: string, rawBytes: number, compressedBytes: number): void {
    const v = this.#volumes.get(volume);
    if (v === undefined) return;
    const now = this.#now();
    this.#accrue(v, now);
    const b = this.#bucket(v, now);
    b.raw += rawBytes;
    b.compressed += compressedBytes;
    let total = this.#counted.get(volume);
    if (total === undefined) {
      total = { rawBytes: 0, compressedBytes: 0 };
      this.#counted.set(volume, total);
    }
    total.rawBytes += rawBytes;
    total.compressedBytes += compressedBytes;
  }

  /** Drops the measurement of every volume not in `volumes`; true when one went. */
  retain(volumes: Iterable<string>): boolean {
    const keep = new Set(volumes);
    let dropped = false;
    for (const name of [...this.#volumes.keys()]) {
      if (!keep.has(name)) {
        this.#volumes.delete(name);
        dropped = true;
      }
    }
    return dropped;
  }

  rate(volume: string): ChangeRate | undefined {
    const v = this.#volumes.get(volume);
    if (v === undefined) return undefined;
    const now = this.#now();
    this.#accrue(v, now);
    this.#expire(v, now);
    const floorMs = Math.min(RATE_FLOOR_SECONDS, this.bucketSeconds) * 1000;
    const perHour = (bytes: number, ms: number): number => (bytes === 0 ? 0 : Math.ceil((bytes * 3_600_000) / Math.max(ms, floorMs)));
    let raw = 0;
    let compressed = 0;
    let measuredMs = 0;
    let peakRaw = 0;
    let peakCompressed = 0;
    for (const b of v.buckets) {
      raw += b.raw;
      compressed += b.compressed;
      measuredMs += b.measuredMs;
      peakRaw = Math.max(peakRaw, perHour(b.raw, b.measuredMs));
      peakCompressed = Math.max(peakCompressed, perHour(b.compressed, b.measuredMs));
    }
    const averageRaw = perHour(raw, measuredMs);
    const averageCompressed = perHour(compressed, measuredMs);
    return {
      since: new Date(v.since).toISOString(),
      measuredSeconds: Math.floor(measuredMs / 1000),
      windowSeconds: this.windowSeconds,
      bucketSeconds: this.bucketSeconds,
      rawBytes: raw,
      compressedBytes: compressed,
      averageRawBytesPerHour: averageRaw,
      averageCompressedBytesPerHour: averageCompressed,
      peakRawBytesPerHour: Math.max(peakRaw, averageRaw),
      peakCompressedBytesPerHour: Math.max(peakCompressed, averageCompressed),
    };
  }

  /** Bytes counted for a volume in this process (of the running totals given, or since this meter was made). */
  counted(volume: string): { rawBytes: number; compressedBytes: number } {
    const total = this.#counted.get(volume);
    return { rawBytes: total?.rawBytes ?? 0, compressedBytes: total?.compressedBytes ?? 0 };
  }

  /** ms from now to the end of the bucket that is filling: when the next one begins. */
  untilRollover(): number {
    const ms = this.bucketSeconds * 1000;
    const now = this.#now();
    return ms - (((now % ms) + ms) % ms);
  }

  /** The stored form: measured time is brought up to now first. */
  toJSON(): StoredMeter {
    const now = this.#now();
    const volumes: StoredMeter['volumes'] = {};
    for (const [name, v] of this.#volumes) {
      this.#accrue(v, now);
      this.#expire(v, now);
      volumes[name] = { since: v.since, buckets: v.buckets.map((b) => [b.start, b.raw, b.compressed, b.measuredMs]) };
    }
    return { version: FORMAT_VERSION, bucketSeconds: this.bucketSeconds, volumes };
  }

  /**
   * A meter from its stored form. Buckets of another length (the setting changed) are merged into
   * the bucket of this meter their start falls in; volumes are not measuring until told.
   */
  static fromJSON(value: unknown, o: ChangeRateMeterOptions = {}): ChangeRateMeter {
    const parsed = storedMeter.safeParse(value);
    if (!parsed.success) {
      throw new ChangeRateError(parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(file)'}: ${i.message}`).join('; '));
    }
    const meter = new ChangeRateMeter(o);
    const ms = meter.bucketSeconds * 1000;
    const now = meter.#now();
    for (const [name, stored] of Object.entries(parsed.data.volumes)) {
      const v: VolumeMeter = { since: stored.since, buckets: [], measuringFrom: undefined };
      for (const [start, raw, compressed, measuredMs] of stored.buckets) {
        const b = meter.#bucket(v, Math.floor(start / ms) * ms);
        b.raw += raw;
        b.compressed += compressed;
        // A bucket cannot have been measured for longer than it lasts.
        b.measuredMs = Math.min(ms, b.measuredMs + measuredMs);
      }
      meter.#expire(v, now);
      meter.#volumes.set(name, v);
    }
    return meter;
  }

  /** Adds the time measured since the last call, split at bucket boundaries. */
  #accrue(v: VolumeMeter, now: number): void {
    const from = v.measuringFrom;
    if (from === undefined) return;
    v.measuringFrom = now;
    // A clock set back: nothing to add (the next call goes on from the new time).
    if (now <= from) return;
    const ms = this.bucketSeconds * 1000;
    let t = Math.max(from, now - this.windowSeconds * 1000);
    while (t < now) {
      const start = Math.floor(t / ms) * ms;
      const end = Math.min(now, start + ms);
      const b = this.#bucket(v, start);
      b.measuredMs = Math.min(ms, b.measuredMs + (end - t));
      t = end;
    }
  }

  /** The bucket beginning at the start of the one `time` falls in, made if missing (in order). */
  #bucket(v: VolumeMeter, time: number): Bucket {
    const ms = this.bucketSeconds * 1000;
    const start = Math.floor(time / ms) * ms;
    let i = v.buckets.length;
    while (i > 0 && (v.buckets[i - 1]?.start ?? 0) > start) i--;
    const before = v.buckets[i - 1];
    if (before?.start === start) return before;
    const b: Bucket = { start, raw: 0, compressed: 0, measuredMs: 0 };
    v.buckets.splice(i, 0, b);
    return b;
  }

  /** Drops the buckets that ended before the window. */
  #expire(v: VolumeMeter, now: number): void {
    const ms = this.bucketSeconds * 1000;
    const from = now - this.windowSeconds * 1000;
    let n = 0;
    while (n < v.buckets.length && (v.buckets[n]?.start ?? 0) + ms <= from) n++;
    if (n > 0) v.buckets.splice(0, n);
  }
}

const count = z.number().int().min(0);
const storedMeter = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  bucketSeconds: z.number().int().min(1),
  volumes: z.record(z.string().min(1), z.strictObject({
    since: count,
    /** [start ms, raw bytes, compressed bytes, measured ms] */
    buckets: z.array(z.tuple([count, count, count, count])),
  })),
});

export type StoredMeter = z.output<typeof storedMeter>;

export interface ChangeRateRecorderOptions {
  bucketSeconds: number;
  log: Logger;
  now?: () => number;
  counted?: CountedBytes;
}

/**
 * A stream's meter and its file (<data-dir>/change-rate/<stream id>.json): loaded when the stream
 * starts (a damaged file is logged and the measurement starts over: a meter never stops a stream),
 * written at each bucket rollover and at close().
 */
export class ChangeRateRecorder {
  readonly meter: ChangeRateMeter;
  readonly file: string;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(meter: ChangeRateMeter, file: string, log: Logger) {
    this.meter = meter;
    this.file = file;
    this.#log = log;
  }

  static async open(file: string, o: ChangeRateRecorderOptions): Promise<ChangeRateRecorder> {
    const options = { bucketSeconds: o.bucketSeconds, ...(o.now !== undefined && { now: o.now }), ...(o.counted !== undefined && { counted: o.counted }) };
    let meter: ChangeRateMeter | undefined;
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') o.log.error({ err, file }, 'change rate file is unreadable: the measurement starts over');
    }
    if (text !== undefined) {
      try {
        meter = ChangeRateMeter.fromJSON(JSON.parse(text), options);
      } catch (err: unknown) {
        o.log.error({ err, file }, 'change rate file is damaged: the measurement starts over');
      }
    }
    const recorder = new ChangeRateRecorder(meter ?? new ChangeRateMeter(options), file, o.log);
    recorder.#schedule();
    return recorder;
  }

  /** Drops the volumes not in `volumes` and writes the file, so a removed volume's data goes. */
  retain(volumes: Iterable<string>): void {
    if (this.meter.retain(volumes)) void this.#save();
  }

  /** Every measured volume's rate and what was counted of it in this process (for metrics). */
  figures(): { volume: string; rate: ChangeRate; counted: { rawBytes: number; compressedBytes: number } }[] {
    return this.meter.volumes().flatMap((volume) => {
      const rate = this.meter.rate(volume);
      return rate === undefined ? [] : [{ volume, rate, counted: this.meter.counted(volume) }];
    });
  }

  /** Stops the volumes' clocks and writes the file one last time. */
  async close(): Promise<void> {
    if (this.#closed) return this.#saving;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const volume of this.meter.volumes()) this.meter.measure(volume, false);
    await this.#save(true);
  }

  /** Stops and deletes the file (the stream is deleted). */
  async remove(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#saving;
    await rm(this.file, { force: true });
  }

  #schedule(): void {
    if (this.#closed) return;
    // Just past the boundary, so the write holds the bucket that ended whole.
    this.#timer = setTimeout(() => {
      void this.#save().finally(() => {
        this.#schedule();
      });
    }, this.meter.untilRollover() + 50);
    this.#timer.unref();
  }

  /** Writes are serialised; each writes the meter as it is when it runs. */
  #save(final = false): Promise<void> {
    const run = this.#saving.then(async () => {
      if (this.#closed && !final) return;
      try {
        await mkdir(dirname(this.file), { recursive: true });
        await writeFileDurably(this.file, JSON.stringify(this.meter.toJSON()));
      } catch (err: unknown) {
        this.#log.error({ err, file: this.file }, 'change rate file could not be written; the measurement goes on in memory');
      }
    });
    this.#saving = run;
    return run;
  }
}
