// Reading and hashing on other cores. A scan (chunk-scan.ts) is done by a worker thread, which
// reads a chunk of an open file itself, hashes it, compares it with the replica's hashes, and
// sends back only the blocks that changed: the bytes of unchanged blocks never reach the calling
// thread. A batch of small files (small-files.ts) is read whole and compared there too, and a
// batch of paths a hinted pass looks at is stat'ed there (fs-scan.ts). Everything
// is done on the calling thread once the workers are gone. A worker that dies (crash, terminate,
// out of memory) costs nothing but time: the jobs it held are done here instead, so a caller
// never sees the failure.
//
// With an arena (block-arena.ts), each worker packs what changed into a ring of it: the caller
// gets views of the arena, each with its span as the hold, instead of new memory for every job.
import { Worker } from 'node:worker_threads';
import { BlockArena, type ArenaRing } from './block-arena.ts';
import { BLOCK_SIZE, HASH_BYTES, hashBlocksInto } from '../hash.ts';
import { scanHere, type ChunkScan, type ScanRequest } from './chunk-scan.ts';
import { look, type Looked } from './fs-scan.ts';
import { readSmallFiles, type SmallFilesRequest, type SmallRead } from './small-files.ts';

/** The concatenated 16-byte hashes of each 64 KiB block of `data` (the last one may be short). */
export function hashBlocks(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(data.length / BLOCK_SIZE) * HASH_BYTES);
  hashBlocksInto(data, out);
  return out;
}

/** A job a worker holds: what to do with its answer, and how to do it here if the worker dies first. */
interface Pending {
  answer: (reply: Reply) => void;
  here: () => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
  alive: boolean;
  /** The worker's ring of the arena. */
  ring: ArenaRing | undefined;
}

/** A scan as it crosses from a worker: changed blocks packed in the arena come as their place there (`data` is then empty). */
export type WireScan = ChunkScan & { packed?: { at: number; length: number } };

type WireRead = Exclude<SmallRead, { kind: 'read' }> | (Extract<SmallRead, { kind: 'read' }> & { scan: WireScan });

interface WireReply extends Omit<Reply, 'scan' | 'files'> {
  scan?: WireScan;
  files?: WireRead[];
}

/** What a worker answers: the scan or the files read, or why a scan failed (a read error). */
interface Reply {
  id: number;
  scan?: ChunkScan;
  files?: SmallRead[];
  looked?: Looked[];
  error?: { message: string; code?: string };
}

// Run from source (.ts) or compiled (.js): the worker is the sibling module of the same kind.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);

export interface HashPoolOptions {
  /** Bytes of shared memory the workers pack changed blocks into; 0 (the default): none. */
  arenaBytes?: number;
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  private closed = false;
  readonly arena: BlockArena | undefined;

  constructor(workers: number, options: HashPoolOptions = {}) {
    const bytes = options.arenaBytes ?? 0;
    this.arena = workers > 0 && bytes > 0 ? new BlockArena(bytes, workers) : undefined;
    for (let i = 0; i < workers; i++) this.spawn(i);
  }

  /** Workers still running. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** The running workers (tests stop them to check that nothing is lost). */
  workers(): Worker[] {
    return this.slots.filter((s) => s.alive).map((s) => s.worker);
  }

  private spawn(index: number): void {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL);
    } catch {
      return; // no workers here: everything is done in-process
    }
    const slot: Slot = { worker, jobs: new Map(), alive: true, ring: this.arena?.rings[index] };
    worker.unref();
    if (this.arena !== undefined) worker.postMessage({ ring: this.arena.writerOf(index) });
    worker.on('message', (m: WireReply) => {
      const job = slot.jobs.get(m.id);
      if (job === undefined) return;
      slot.jobs.delete(m.id);
      if (slot.jobs.size === 0) worker.unref();
      job.answer(unwire(slot.ring, m));
    });
    // 'error' is followed by 'exit'; the exit is where the held scans are taken back.
    worker.on('error', () => undefined);
    worker.on('messageerror', () => void worker.terminate());
    worker.on('exit', () => {
      slot.alive = false;
      const jobs = [...slot.jobs.values()];
      slot.jobs.clear();
      for (const job of jobs) job.here();
    });
    this.slots.push(slot);
  }

  /**
   * Reads `want` bytes at `pos` of the open file `fd` on the least busy worker, hashes them, and
   * compares them with `old` (the replica's hashes of those blocks): only the changed blocks come
   * back. The file must stay open until the promise settles. A read error rejects, with its code.
   */
  scan(request: ScanRequest): Promise<ChunkScan> {
    return new Promise<ChunkScan>((resolve, reject) => {
      const here = (): void => void scanHere(request).then(resolve, reject);
      this.post({ scan: request }, here, (m) => {
        if (m.scan !== undefined) resolve(m.scan);
        else reject(Object.assign(new Error(m.error?.message ?? 'the hash worker answered nothing'), m.error?.code === undefined ? {} : { code: m.error.code }));
      });
    });
  }

  /**
   * Reads small files whole on the least busy worker (small-files.ts): one message for the batch.
   * Never rejects: a file's read error is its own result.
   */
  readFiles(request: SmallFilesRequest): Promise<SmallRead[]> {
    return new Promise<SmallRead[]>((resolve) => {
      const here = (): void => void readSmallFiles(request).then(resolve);
      this.post({ files: request }, here, (m) => {
        if (m.files !== undefined) resolve(m.files);
        else here();
      });
    });
  }

  /**
   * Looks at paths (absolute) on the least busy worker, one message for the batch: a blocking
   * lstat there costs a few µs, an awaited one here ~50 (BigInt stats made on this thread, and
   * a thread-pool round trip per path). Never rejects: a path's failure is its own result.
   */
  look(paths: string[]): Promise<Looked[]> {
    return new Promise<Looked[]>((resolve) => {
      const here = (): void => void Promise.all(paths.map(look)).then(resolve);
      this.post({ look: paths }, here, (m) => {
        if (m.looked !== undefined) resolve(m.looked);
        else here();
      });
    });
  }

  private post(message: { scan: ScanRequest } | { files: SmallFilesRequest } | { look: string[] }, here: () => void, answer: (m: Reply) => void): void {
    let slot: Slot | undefined;
    if (!this.closed) for (const s of this.slots) if (s.alive && (slot === undefined || s.jobs.size < slot.jobs.size)) slot = s;
    if (slot === undefined) {
      here();
      return;
    }
    const id = this.seq++;
    if (slot.jobs.size === 0) slot.worker.ref();
    slot.jobs.set(id, { answer, here });
    try {
      slot.worker.postMessage({ id, ...message });
    } catch {
      slot.jobs.delete(id);
      here();
    }
  }

  /** Stops the workers; scans they still hold are done in-process. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** A worker's answer with its packed scans turned back into views of its ring, each holding its span. */
function unwire(ring: ArenaRing | undefined, m: WireReply): Reply {
  const scan = (w: WireScan): ChunkScan => {
    const base = { length: w.length, hashes: w.hashes, changed: w.changed, ...(w.crcs !== undefined && { crcs: w.crcs }) };
    if (w.packed === undefined || w.packed.length === 0) return { ...base, data: w.data };
    if (ring === undefined) throw new Error('a hash worker packed changed blocks into an arena this pool does not have');
    const span = ring.took(w.packed.at, w.packed.length);
    return { ...base, data: ring.view(span), hold: span };
  };
  const { scan: s, files, ...rest } = m;
  return {
    ...rest,
    ...(s !== undefined && { scan: scan(s) }),
    ...(files !== undefined && { files: files.map((f) => (f.kind === 'read' ? { ...f, scan: scan(f.scan) } : f)) }),
  };
}
