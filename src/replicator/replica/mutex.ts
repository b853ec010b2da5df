// A per-replica lock: apply changes the replica's files, materialise, verify and head manifests
// read them, so each takes the lock for as long as it touches them.

export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder is done; the lock is released however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
