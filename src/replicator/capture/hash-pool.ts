// Block hashing on other cores. Chunks read into shared memory are hashed by worker threads (no
// copy either way but the hashes); anything else, and everything once the workers are gone, is
// hashed on the calling thread. A worker that dies (crash, terminate, out of memory) costs nothing
// but time: the chunks it held are hashed here instead, so a caller never sees the failure.
import { Worker } from 'node:worker_threads';
import { BLOCK_SIZE, HASH_BYTES, hashBlocksInto } from '../hash.ts';

/** The concatenated 16-byte hashes of each 64 KiB block of `data` (the last one may be short). */
export function hashBlocks(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(data.length / BLOCK_SIZE) * HASH_BYTES);
  hashBlocksInto(data, out);
  return out;
}

/** A buffer in shared memory: what the pool can hand to a worker without copying. */
export function sharedBuffer(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

interface Pending {
  data: Uint8Array;
  resolve: (hashes: Buffer) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
  alive: boolean;
}

interface Reply {
  id: number;
  hashes: Uint8Array;
}

// Run from source (.ts) or compiled (.js): the worker is the sibling module of the same kind.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);

export class HashPool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  private closed = false;

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) this.spawn();
  }

  /** Workers still running. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** The running workers (tests stop them to check that nothing is lost). */
  workers(): Worker[] {
    return this.slots.filter((s) => s.alive).map((s) => s.worker);
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL);
    } catch {
      return; // no workers here: everything is hashed in-process
    }
    const slot: Slot = { worker, jobs: new Map(), alive: true };
    worker.unref();
    worker.on('message', (m: Reply) => {
      const job = slot.jobs.get(m.id);
      if (job === undefined) return;
      slot.jobs.delete(m.id);
      if (slot.jobs.size === 0) worker.unref();
      job.resolve(Buffer.from(m.hashes.buffer, m.hashes.byteOffset, m.hashes.byteLength));
    });
    // 'error' is followed by 'exit'; the exit is where the held chunks are taken back.
    worker.on('error', () => undefined);
    worker.on('messageerror', () => void worker.terminate());
    worker.on('exit', () => {
      slot.alive = false;
      const jobs = [...slot.jobs.values()];
      slot.jobs.clear();
      for (const job of jobs) job.resolve(hashBlocks(job.data));
    });
    this.slots.push(slot);
  }

  /**
   * Hashes `data`'s blocks. Data in a SharedArrayBuffer goes to the least busy worker and must
   * not change until the promise resolves; other data is hashed right here.
   */
  hash(data: Uint8Array): Promise<Buffer> {
    let best: Slot | undefined;
    if (!this.closed && data.buffer instanceof SharedArrayBuffer && data.length > 0) {
      for (const s of this.slots) if (s.alive && (best === undefined || s.jobs.size < best.jobs.size)) best = s;
    }
    if (best === undefined) return Promise.resolve(hashBlocks(data));
    const slot = best;
    const id = this.seq++;
    return new Promise<Buffer>((resolve) => {
      if (slot.jobs.size === 0) slot.worker.ref();
      slot.jobs.set(id, { data, resolve });
      try {
        slot.worker.postMessage({ id, buffer: data.buffer, offset: data.byteOffset, length: data.byteLength });
      } catch {
        slot.jobs.delete(id);
        resolve(hashBlocks(data));
      }
    });
  }

  /** Stops the workers; chunks they still hold are hashed in-process. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
