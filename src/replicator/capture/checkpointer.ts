// Passes over all volumes of a VPG, one after the other, and closes each complete pass with one
// checkpoint. Its time is when the pass started (before the pre hook): everything written before
// it is in the checkpoint, so the RPO derived from it is never understated. A pass cut short
// pushes no checkpoint: the last one stays the newest consistent point. The volumes can change
// between passes (setCaptures): a pass keeps the list it started with.
import { runHook, type HookSpec } from './hooks.ts';
import type { Log, RecordSink, VolumeCapture } from './volume-capture.ts';

export type { HookSpec } from './hooks.ts';

/** The codec's bound on a checkpoint tag. */
const MAX_TAG_BYTES = 253;

export interface CheckpointerOptions {
  captures: VolumeCapture[];
  sink: RecordSink;
  /** Pause between passes of the loop (start()); default 5000. */
  intervalMs?: number | undefined;
  hooks?: { pre?: HookSpec | undefined; post?: HookSpec | undefined } | undefined;
  now?: (() => number) | undefined;
  log?: Log | undefined;
}

export interface RunResult {
  complete: boolean;
  /** The checkpoint's seq (its id), when the pass completed. */
  checkpointSeq?: number;
  /** The checkpoint's time. */
  startedAt: number;
  /** The volumes the pass went over (those the checkpoint holds, when it completed). */
  volumes: string[];
}

export interface PassSummary {
  startedAt: number;
  durationMs: number;
  complete: boolean;
  checkpointSeq?: number;
  tag: string;
  bytesRead: number;
  bytesChanged: number;
  ops: number;
}

export interface CheckpointProgress {
  /** No checkpoint yet: the pass running is the initial sync (or a delta sync). */
  initial: boolean;
  /** Bytes compared (read, or known unchanged) so far in the running pass, or in the last one. */
  bytesDone: number;
  bytesTotal: number;
  /** While a pass runs, from the rate observed in it. */
  etaSeconds?: number;
  lastPass?: PassSummary;
  hookFailures: number;
  lastHookError?: string;
  /** The same per volume, for the running pass (or the last one). */
  volumes: { volume: string; bytesDone: number; bytesTotal: number }[];
}

export type CheckpointerErrorCode = 'BAD_TAG' | 'STOPPED';

export class CheckpointerError extends Error {
  override readonly name = 'CheckpointerError';
  readonly code: CheckpointerErrorCode;
  constructor(code: CheckpointerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface TagWaiter {
  tag: string;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export class Checkpointer {
  private captures: readonly VolumeCapture[];
  private readonly sink: RecordSink;
  private readonly intervalMs: number;
  private readonly hooks: { pre?: HookSpec | undefined; post?: HookSpec | undefined };
  private readonly now: () => number;
  private readonly log: Log | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private waiters: TagWaiter[] = [];
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private checkpoints = 0;
  private running: PassProgress | undefined;
  private last: PassSummary | undefined;
  private lastProgress: PassProgress | undefined;
  private hookFailures = 0;
  private lastHookError: string | undefined;

  constructor(o: CheckpointerOptions) {
    const interval = o.intervalMs ?? 5000;
    if (!Number.isFinite(interval) || interval < 0) throw new RangeError(`intervalMs ${interval} is not a duration`);
    this.captures = distinct(o.captures);
    this.sink = o.sink;
    this.intervalMs = interval;
    this.hooks = o.hooks ?? {};
    this.now = o.now ?? Date.now;
    this.log = o.log;
  }

  /** One pass over all volumes, after any running one. A tag given here or requested is used. */
  runOnce(tag?: string): Promise<RunResult> {
    if (tag !== undefined) checkTag(tag);
    return this.exclusive(() => this.pass(tag));
  }

  /** The volumes the next pass goes over (a running pass keeps its own). */
  setCaptures(captures: readonly VolumeCapture[]): void {
    this.captures = distinct(captures);
  }

  volumes(): string[] {
    return this.captures.map((c) => c.volume);
  }

  /** Resolves once every pass started or queued before the call has ended. */
  settled(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** Passes every intervalMs (measured from the end of one to the start of the next). */
  start(): void {
    if (this.loop !== undefined) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(new CheckpointerError('STOPPED', `checkpointer stopped before a checkpoint tagged ${JSON.stringify(w.tag)} was taken`));
  }

  /**
   * A checkpoint with this tag: the next pass that starts carries it (a pass already running
   * started before the request, so it does not). Resolves with the checkpoint's seq once a pass
   * with the tag completes; a pass cut short leaves the tag for the next one.
   */
  requestTag(tag: string): Promise<number> {
    try {
      checkTag(tag);
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const done = new Promise<number>((resolve, reject) => {
      this.waiters.push({ tag, resolve, reject });
    });
    if (this.loop !== undefined) {
      this.wake?.();
    } else {
      this.exclusive(async () => {
        if (this.waiters.some((w) => w.tag === tag)) await this.pass(undefined);
      }).catch((err: unknown) => this.log?.warn({ err }, 'tagged checkpoint pass failed'));
    }
    return done;
  }

  progress(): CheckpointProgress {
    const r = this.running;
    const p = r ?? this.lastProgress;
    const out: CheckpointProgress = {
      initial: this.checkpoints === 0,
      bytesDone: p?.bytesDone ?? 0,
      bytesTotal: p?.bytesTotal ?? 0,
      hookFailures: this.hookFailures,
      volumes: [...(p?.volumes ?? [])].map(([volume, v]) => ({ volume, ...v })),
    };
    if (r !== undefined) {
      const seconds = (this.now() - r.startedAt) / 1000;
      if (seconds > 0 && r.bytesDone > 0) out.etaSeconds = Math.max(0, (r.bytesTotal - r.bytesDone) / (r.bytesDone / seconds));
    }
    if (this.last !== undefined) out.lastPass = { ...this.last };
    if (this.lastHookError !== undefined) out.lastHookError = this.lastHookError;
    return out;
  }

  private isStopping(): boolean {
    return this.stopping;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let complete = false;
      try {
        complete = (await this.runOnce()).complete;
      } catch (err: unknown) {
        this.log?.error({ err }, 'checkpoint pass failed');
      }
      if (this.isStopping()) break;
      if (complete && this.waiters.length > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async hook(which: 'pre' | 'post'): Promise<void> {
    const spec = this.hooks[which];
    if (spec === undefined) return;
    try {
      await runHook(which, spec);
    } catch (err: unknown) {
      this.hookFailures++;
      this.lastHookError = (err as Error).message;
      this.log?.warn({ err }, `${which} hook failed; the checkpoint is crash-consistent only`);
    }
  }

  private async pass(tagArg: string | undefined): Promise<RunResult> {
    const tag = tagArg ?? this.waiters[0]?.tag ?? '';
    const captures = this.captures;
    const names = captures.map((c) => c.volume);
    const startedAt = this.now();
    const running: PassProgress = { startedAt, bytesDone: 0, bytesTotal: 0, volumes: new Map() };
    for (const c of captures) {
      let size = 0;
      try {
        size = await c.sizeBytes();
      } catch (err: unknown) {
        this.log?.warn({ err, volume: c.volume }, 'volume size unknown');
      }
      running.bytesTotal += size;
      running.volumes.set(c.volume, { bytesDone: 0, bytesTotal: size });
    }
    this.running = running;
    const totals = { bytesRead: 0, bytesChanged: 0, ops: 0 };
    let complete = true;
    let checkpointSeq: number | undefined;
    try {
      await this.hook('pre');
      try {
        for (const c of captures) {
          const base = running.bytesDone;
          const mine = running.volumes.get(c.volume);
          const r = await c.pass(this.sink, (n) => {
            running.bytesDone = base + n;
            if (mine !== undefined) mine.bytesDone = n;
          });
          totals.bytesRead += r.bytesRead;
          totals.bytesChanged += r.bytesChanged;
          totals.ops += r.ops;
          if (!r.complete) {
            complete = false;
            break;
          }
        }
      } finally {
        await this.hook('post');
      }
      if (complete) {
        const volumes = captures.map((c) => ({ volume: c.volume, digest: c.digest() }));
        const seq = await this.sink.push({ kind: 'checkpoint', checkpoint: { time: startedAt, tag, volumes } });
        if (seq === false) complete = false;
        else checkpointSeq = seq;
      }
    } catch (err: unknown) {
      complete = false;
      throw err;
    } finally {
      this.running = undefined;
      this.lastProgress = running;
      this.last = {
        startedAt,
        durationMs: this.now() - startedAt,
        complete,
        tag,
        ...totals,
        ...(checkpointSeq !== undefined && { checkpointSeq }),
      };
    }
    if (checkpointSeq === undefined) return { complete: false, startedAt, volumes: names };
    this.checkpoints++;
    if (tag !== '') {
      const matched = this.waiters.filter((w) => w.tag === tag);
      this.waiters = this.waiters.filter((w) => w.tag !== tag);
      for (const w of matched) w.resolve(checkpointSeq);
    }
    return { complete: true, checkpointSeq, startedAt, volumes: names };
  }
}

interface PassProgress {
  startedAt: number;
  bytesDone: number;
  bytesTotal: number;
  volumes: Map<string, { bytesDone: number; bytesTotal: number }>;
}

function distinct(captures: readonly VolumeCapture[]): VolumeCapture[] {
  const names = new Set<string>();
  for (const c of captures) {
    if (names.has(c.volume)) throw new RangeError(`volume ${c.volume} is captured twice`);
    names.add(c.volume);
  }
  return [...captures];
}

function checkTag(tag: string): void {
  if (Buffer.byteLength(tag) > MAX_TAG_BYTES) throw new CheckpointerError('BAD_TAG', `tag is ${Buffer.byteLength(tag)} bytes, more than ${MAX_TAG_BYTES}`);
}
