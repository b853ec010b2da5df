// Open files by key, at most `limit` at once (least recently used closed first), so replaying many
// small writes to the same files costs one open each instead of one per write.
import type { FileHandle } from 'node:fs/promises';

export class FdCache {
  private readonly handles = new Map<string, FileHandle>();
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
    let fh = this.handles.get(key);
    if (fh !== undefined) {
      this.handles.delete(key);
      this.handles.set(key, fh);
    } else {
      if (this.handles.size >= this.limit) {
        const oldest = this.handles.keys().next().value;
        if (oldest !== undefined) await this.close(oldest);
      }
      fh = await open();
      this.handles.set(key, fh);
    }
    this.dirty.add(key);
    return fh;
  }

  has(key: string): boolean {
    return this.handles.has(key);
  }

  async close(key: string): Promise<void> {
    const fh = this.handles.get(key);
    if (fh === undefined) return;
    this.handles.delete(key);
    try {
      if (this.syncOnClose && this.dirty.has(key)) await fh.datasync();
    } finally {
      this.dirty.delete(key);
      await fh.close();
    }
  }

  /** Closes every handle (syncing written ones when syncOnClose), even when one fails. */
  async closeAll(): Promise<void> {
    let first: Error | undefined;
    for (const key of [...this.handles.keys()]) {
      try {
        await this.close(key);
      } catch (err: unknown) {
        first ??= err as Error;
      }
    }
    if (first !== undefined) throw first;
  }
}
