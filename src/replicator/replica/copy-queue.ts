// The replica's files copied into a materialise's targets by a few workers in the thread pool,
// while the journal is replayed on top: a write waits only for its own file's copy, and asks for
// that file to be copied next, so the replay does not wait for the whole copy.
import { constants } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';

export interface CopyJob {
  /** The file's key in the replay (`volume\0id`, or `volume\0` for an image). */
  key: string;
  from: string;
  to: string;
  size: number;
  /** Further paths of the same file, hard-linked once it is copied. */
  links: readonly string[];
}

// reflink where the filesystem can, else copy_file_range: the kernel copies, not this thread.
const COPY_FLAGS = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CopyQueue {
  /** Settles when every copy is done, or rejects with the first failure once the workers stop. */
  readonly done: Promise<void>;
  private readonly jobs: CopyJob[];
  private readonly byKey = new Map<string, CopyJob>();
  /** Jobs asked for by the replay, taken before the rest. */
  private readonly urgent: CopyJob[] = [];
  private readonly state = new Map<CopyJob, 'running' | 'copied'>();
  private readonly waiters = new Map<CopyJob, Waiter>();
  private next = 0;
  private failure: { error: Error } | undefined;
  private copiedBytes = 0;
  private readonly totalBytes: number;

  /** onCopied: after each file is copied (hard links included), with the bytes copied so far. */
  constructor(jobs: readonly CopyJob[], concurrency: number, onCopied?: (job: CopyJob, doneBytes: number, totalBytes: number) => void) {
    this.jobs = [...jobs];
    for (const j of this.jobs) this.byKey.set(j.key, j);
    this.totalBytes = this.jobs.reduce((sum, j) => sum + j.size, 0);
    const worker = async (): Promise<void> => {
      for (let job = this.take(); job !== undefined; job = this.take()) {
        this.state.set(job, 'running');
        try {
          await copyFile(job.from, job.to, COPY_FLAGS);
          for (const to of job.links) await link(job.to, to);
        } catch (err: unknown) {
          this.fail(err);
          return;
        }
        this.state.set(job, 'copied');
        this.waiters.get(job)?.resolve();
        this.copiedBytes += job.size;
        onCopied?.(job, this.copiedBytes, this.totalBytes);
      }
    };
    const workers = Array.from({ length: Math.min(Math.max(1, concurrency), this.jobs.length) }, worker);
    this.done = Promise.all(workers).then(() => {
      if (this.failure !== undefined) throw this.failure.error;
    });
    // The caller awaits `done`; until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
  }

  /** Resolves once the file `key` is in place (at once for a key with no copy: a new file). */
  ready(key: string): Promise<void> {
    const job = this.byKey.get(key);
    if (job === undefined || this.state.get(job) === 'copied') return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    let w = this.waiters.get(job);
    if (w === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      w = { promise, resolve, reject };
      this.waiters.set(job, w);
      if (!this.state.has(job)) this.urgent.push(job);
    }
    return w.promise;
  }

  /** Starts no further copy (those running finish); `done` then rejects. */
  cancel(): void {
    this.fail(new Error('the copy was cancelled'));
  }

  private take(): CopyJob | undefined {
    if (this.failure !== undefined) return undefined;
    for (;;) {
      const job = this.urgent.shift() ?? this.jobs[this.next++];
      if (job === undefined) return undefined;
      if (!this.state.has(job)) return job;
    }
  }

  private fail(err: unknown): void {
    this.failure ??= { error: err instanceof Error ? err : new Error(String(err)) };
    for (const [job, w] of this.waiters) if (this.state.get(job) !== 'copied') w.reject(this.failure.error);
  }
}
