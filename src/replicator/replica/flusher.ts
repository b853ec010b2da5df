// Starts the disk writes of a materialise's copies while the rest of it runs: each file is
// fdatasync'd in the background as soon as its copy is done. Left to the end, writeback of a
// whole volume waits for the last write and then takes as long again (2 GiB: ~1.3 s on these
// machines, after a materialise of ~1.4 s); flushed as the copies finish, most of it overlaps
// the journal's replay. A file the replay writes to later is fsync'd again at the end, so this is
// only a head start, with one exception: a failed flush fails the materialise, since after an
// fsync has reported an I/O error a later one may report success for data that was lost. A path
// the replay has renamed or removed meanwhile has nothing left to flush under that name.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** fdatasync of one file; the seam a test uses to watch the flusher's order and concurrency. */
export type SyncFile = (path: string) => Promise<void>;

const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

export const syncFileData: SyncFile = async (path) => {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err: unknown) {
    if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
};

export class Flusher {
  private readonly queue: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private failure: { error: Error } | undefined;
  private readonly concurrency: number;
  private readonly sync: SyncFile;

  /** `concurrency` fsyncs at most at once: each holds a thread of the pool while the disk works. */
  constructor(concurrency: number, sync: SyncFile = syncFileData) {
    this.concurrency = Math.max(1, concurrency);
    this.sync = sync;
  }

  /** Queues `path` to be flushed; ignored once a flush has failed (done() reports that failure). */
  add(path: string): void {
    if (this.failure !== undefined) return;
    this.queue.push(path);
    if (this.running.size < this.concurrency) this.startWorker();
  }

  /** Settles when everything queued is flushed; rejects with the first failure. */
  async done(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Queued files are dropped; flushes in flight end (done() waits for them). */
  cancel(): void {
    this.queue.length = 0;
  }

  private startWorker(): void {
    const worker = (async (): Promise<void> => {
      for (let path = this.queue.shift(); path !== undefined; path = this.queue.shift()) {
        try {
          await this.sync(path);
        } catch (err: unknown) {
          this.failure ??= { error: new Error(`flushing ${path} to disk: ${(err as Error).message}`, { cause: err }) };
          this.queue.length = 0;
        }
      }
    })();
    this.running.add(worker);
    void worker.finally(() => this.running.delete(worker));
  }
}
