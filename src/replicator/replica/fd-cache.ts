// Open files by key, at most `limit` at once (least recently used closed first), so replaying many
// small writes to the same files costs one open each instead of one per write. Safe for writes in
// flight at once: an open in progress is shared by everyone who asks for the same key meanwhile,
// and a handle is never closed while `with` uses it.
import type { FileHandle } from 'node:fs/promises';

interface Entry {
  /** The open in progress or done; settles before the entry may be closed. */
  handle: Promise<FileHandle>;
  /** Callers inside with(): eviction passes over an entry in use. */
  users: number;
}

export class FdCache {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  private readonly limit: number;
  private readonly syncOnClose: boolean;

  /** syncOnClose: fdatasync written files before closing them (apply needs them durable). */
  constructor(options: { limit?: number; syncOnClose: boolean }) {
    this.limit = options.limit ?? 128;
    this.syncOnClose = options.syncOnClose;
  }

  /** The open handle for `key`, opening it with `open` when it is not open. Marks it written. */
  async get(key: string, open: () => Promise<FileHandle>): Promise<FileHandle> {
    return (await this.use(key, open, false)).fh;
  }

  /**
   * Runs `fn` with the handle for `key`, which is not evicted while `fn` runs (several may run at
   * once, on different keys or the same one). `close(key)` must not be called meanwhile.
   */
  async with<T>(key: string, open: () => Promise<FileHandle>, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    const { fh, entry } = await this.use(key, open, true);
    try {
      return await fn(fh);
    } finally {
      entry.users--;
    }
  }

  private async use(key: string, open: () => Promise<FileHandle>, hold: boolean): Promise<{ fh: FileHandle; entry: Entry }> {
    let e = this.entries.get(key);
    if (e !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, e);
    } else {
      await this.evict();
      // evict() awaited: someone else may have opened the key meanwhile.
      e = this.entries.get(key);
      if (e === undefined) {
        e = { handle: open(), users: 0 };
        this.entries.set(key, e);
        const opened = e;
        // A failed open leaves no entry behind (the caller sees the failure below).
        opened.handle.catch(() => {
          if (this.entries.get(key) === opened) this.entries.delete(key);
        });
      }
    }
    if (hold) e.users++;
    let fh: FileHandle;
    try {
      fh = await e.handle;
    } catch (err: unknown) {
      if (hold) e.users--;
      throw err;
    }
    this.dirty.add(key);
    return { fh, entry: e };
  }

  /** Closes least recently used entries not in use until there is room for one more. */
  private async evict(): Promise<void> {
    while (this.entries.size >= this.limit) {
      let oldest: string | undefined;
      for (const [key, e] of this.entries) {
        if (e.users === 0) {
          oldest = key;
          break;
        }
      }
      // Everything is in use: go over the limit rather than close a handle under a write.
      if (oldest === undefined) return;
      await this.close(oldest);
    }
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  async close(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    const written = this.dirty.delete(key);
    let fh: FileHandle;
    try {
      fh = await e.handle;
    } catch {
      return; // never opened: nothing to close, and its caller was told
    }
    try {
      if (this.syncOnClose && written) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /** Closes every handle (syncing written ones when syncOnClose), even when one fails. */
  async closeAll(): Promise<void> {
    let first: Error | undefined;
    for (const key of [...this.entries.keys()]) {
      try {
        await this.close(key);
      } catch (err: unknown) {
        first ??= err as Error;
      }
    }
    if (first !== undefined) throw first;
  }
}
