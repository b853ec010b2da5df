// Keeps several replayed writes in flight: the thread pool writes while this thread reads and
// decompresses the next records, instead of each record waiting for the last one's write. Order
// is kept where it shows: a write starts only after every earlier write in flight to the same file
// whose range it overlaps, and the caller drains the pipeline before anything that is not a write
// (a truncate, rename or unlink sees all earlier writes done, and no later one started).

export interface WritePipelineOptions {
  /** Writes in flight at most (default 8). */
  maxWrites?: number;
  /** Bytes in flight at most, a single larger write excepted (default 32 MiB). */
  maxBytes?: number;
}

interface InFlight {
  key: string;
  start: number;
  end: number;
  /** Settles when the write is done or failed; never rejects (the failure is kept on the pipeline). */
  done: Promise<void>;
}

export class WritePipeline {
  private readonly maxWrites: number;
  private readonly maxBytes: number;
  private readonly inFlight = new Set<InFlight>();
  private bytes = 0;
  private failure: { error: unknown } | undefined;

  constructor(options: WritePipelineOptions = {}) {
    this.maxWrites = Math.max(1, options.maxWrites ?? 8);
    this.maxBytes = Math.max(1, options.maxBytes ?? 32 * 1024 * 1024);
  }

  /**
   * Starts `run`, the write of `length` bytes at `offset` of file `key`, once there is room and
   * every overlapping earlier write to `key` is done. Resolves when it has started; a failure is
   * thrown by the next write() or drain(), and no write starts after one has failed.
   */
  async write(key: string, offset: number, length: number, run: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size > 0 && (this.inFlight.size >= this.maxWrites || this.bytes + length > this.maxBytes)) {
      await Promise.race([...this.inFlight].map((w) => w.done));
      this.throwIfFailed();
    }
    const end = offset + length;
    const before: Promise<void>[] = [];
    for (const w of this.inFlight) if (w.key === key && w.start < end && offset < w.end) before.push(w.done);
    const entry: InFlight = { key, start: offset, end, done: Promise.resolve() };
    // In the set before it starts: a write that ends at once (after a failure) removes itself.
    this.inFlight.add(entry);
    this.bytes += length;
    entry.done = this.start(entry, before, length, run);
  }

  private async start(entry: InFlight, before: readonly Promise<void>[], length: number, run: () => Promise<void>): Promise<void> {
    try {
      if (before.length > 0) await Promise.all(before);
      if (this.failure === undefined) await run();
    } catch (err: unknown) {
      this.failure ??= { error: err };
    } finally {
      this.inFlight.delete(entry);
      this.bytes -= length;
    }
  }

  /** Waits for every write in flight; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every write in flight and reports nothing (for clean-up after another failure). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight].map((w) => w.done));
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}
