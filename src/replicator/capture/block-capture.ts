// Capture of a block volume: an image file or a block device, compared block by block with the
// manifest's hashes, in big chunks, several in flight (content-sync.ts). Worker threads read, hash
// and compare the chunks (hash-pool.ts, chunk-scan.ts) while this thread pushes what changed.
import type { BigIntStats } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { HASH_BYTES, blockCount, contentDigest } from '../hash.ts';
import type { BlockManifest, Manifest } from '../manifest.ts';
import { MAX_UINT48, type Op } from '../ops.ts';
import { volumeNameProblem } from '../paths.ts';
import { scanHere, type ChunkScan } from './chunk-scan.ts';
import { readBuffers, syncContent } from './content-sync.ts';
import { HashPool } from './hash-pool.ts';
import { CaptureError, SinkStopped, type PassResult, type RecordSink, type VolumeCapture } from './volume-capture.ts';

export interface BlockCaptureOptions {
  volume: string;
  /** The image file or block device on this host. */
  path: string;
  /** Read size, a multiple of 64 KiB; default 4 MiB. */
  chunkBytes?: number;
  /** Worker threads reading, hashing and comparing chunks while this thread pushes; default 2, 0: all here. */
  hashWorkers?: number;
  /** Shared memory the workers pack changed blocks into, as FsCaptureOptions.arenaBytes; default 64 MiB. */
  arenaBytes?: number;
}

/** Chunks in flight: read, being hashed, or waiting to be compared and pushed. */
const CHUNKS_AHEAD = 6;

const WRITE_BYTES = 1024 * 1024;

/** A block device's size from sysfs (512-byte sectors), or by reading it to the end. */
export async function deviceSize(handle: FileHandle, st: BigIntStats, chunkBytes: number): Promise<number> {
  const major = ((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn);
  const minor = (st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn);
  try {
    const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim());
    if (Number.isSafeInteger(sectors) && sectors >= 0) return sectors * 512;
  } catch {
    // no sysfs here: count the bytes
  }
  const buf = Buffer.allocUnsafe(chunkBytes);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buf, 0, chunkBytes, size);
    if (bytesRead === 0) return size;
    size += bytesRead;
  }
}

export class BlockCapture implements VolumeCapture {
  readonly volume: string;
  readonly kind = 'block' as const;
  private readonly path: string;
  private readonly chunkBytes: number;
  private state = { size: 0, hashes: new Uint8Array(0) };
  private running = false;
  private readonly hashWorkers: number;
  private readonly arenaBytes: number;
  /** Started by the first pass, kept until close (idle workers do not keep the process alive). */
  private pool: HashPool | undefined;
  private closed = false;

  constructor(o: BlockCaptureOptions) {
    const problem = volumeNameProblem(o.volume);
    if (problem !== undefined) throw new CaptureError('BAD_OPTION', `volume ${JSON.stringify(o.volume)} ${problem}`);
    const chunk = o.chunkBytes ?? 4 * 1024 * 1024;
    if (!Number.isInteger(chunk) || chunk <= 0 || chunk % (64 * 1024) !== 0) {
      throw new CaptureError('BAD_OPTION', `chunkBytes ${chunk} is not a positive multiple of 65536`);
    }
    this.volume = o.volume;
    this.path = o.path;
    this.chunkBytes = chunk;
    const arena = o.arenaBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(arena) || arena < 0) throw new CaptureError('BAD_OPTION', `arenaBytes ${arena} is not a whole number of bytes`);
    this.arenaBytes = arena;
    const workers = o.hashWorkers ?? 2;
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new CaptureError('BAD_OPTION', `hashWorkers ${workers} is not in 0..64`);
    this.hashWorkers = workers;
  }

  manifest(): BlockManifest {
    return { kind: 'block', size: this.state.size, hashes: new Uint8Array(this.state.hashes) };
  }

  adopt(m: Manifest): void {
    if (this.running) throw new CaptureError('PASS_RUNNING', `volume ${this.volume}: adopt during a pass`);
    if (m.kind !== 'block') throw new CaptureError('BAD_MANIFEST', `volume ${this.volume}: a ${m.kind} manifest given to a block capture`);
    if (!Number.isSafeInteger(m.size) || m.size < 0 || m.size > MAX_UINT48) {
      throw new CaptureError('BAD_MANIFEST', `volume ${this.volume}: manifest size ${m.size} is not in 0..${MAX_UINT48}`);
    }
    const want = blockCount(m.size) * HASH_BYTES;
    if (m.hashes.length !== want) {
      throw new CaptureError('BAD_MANIFEST', `volume ${this.volume}: manifest has ${m.hashes.length} bytes of block hashes, ${want} expected for size ${m.size}`);
    }
    this.state = { size: m.size, hashes: new Uint8Array(m.hashes) };
  }

  digest(): Uint8Array {
    return contentDigest(this.state.size, this.state.hashes);
  }

  async sizeBytes(): Promise<number> {
    const st = await stat(this.path, { bigint: true });
    if (!st.isBlockDevice()) return Number(st.size);
    const handle = await open(this.path, 'r');
    try {
      return await deviceSize(handle, st, this.chunkBytes);
    } finally {
      await handle.close();
    }
  }

  close(): void {
    this.closed = true;
    void this.pool?.close();
    this.pool = undefined;
  }

  private scanChunk(fd: number, pos: number, want: number, old: Uint8Array): Promise<ChunkScan> {
    // After close() (a pass still running) the chunks are scanned on this thread.
    if (this.closed) return scanHere({ fd, pos, want, old });
    return (this.pool ??= new HashPool(this.hashWorkers, { arenaBytes: this.arenaBytes })).scan({ fd, pos, want, old });
  }

  async pass(sink: RecordSink, progress?: (bytesDone: number) => void): Promise<PassResult> {
    if (this.closed) throw new CaptureError('CLOSED', `volume ${this.volume}: capture is closed`);
    if (this.running) throw new CaptureError('PASS_RUNNING', `volume ${this.volume}: a pass is already running`);
    this.running = true;
    const result: PassResult = { complete: false, bytesRead: 0, bytesChanged: 0, ops: 0 };
    const emit = async (op: Op, done?: () => void, dataCrc?: number): Promise<void> => {
      const seq = await sink.push({ kind: 'op', volume: this.volume, op }, done, dataCrc);
      if (seq === false) throw new SinkStopped();
      result.ops++;
      if (op.op === 'write') result.bytesChanged += op.data.length;
    };
    let handle: FileHandle | undefined;
    try {
      try {
        handle = await open(this.path, 'r');
      } catch (err: unknown) {
        throw new CaptureError('READ_FAILED', `volume ${this.volume}: opening ${this.path} failed: ${(err as Error).message}`, { cause: err });
      }
      const st = await handle.stat({ bigint: true });
      let size: number;
      if (st.isFile()) size = Number(st.size);
      else if (st.isBlockDevice()) size = await deviceSize(handle, st, this.chunkBytes);
      else throw new CaptureError('BAD_OPTION', `volume ${this.volume}: ${this.path} is neither a regular file nor a block device`);
      if (size > MAX_UINT48) throw new CaptureError('READ_FAILED', `volume ${this.volume}: ${this.path} is ${size} bytes, more than ${MAX_UINT48}`);
      const fd = handle.fd;
      try {
        await syncContent({
          handle,
          size,
          id: 0,
          state: this.state,
          emit,
          chunkBytes: this.chunkBytes,
          // Released after each pass: an image is read once per pass. With workers, each reads,
          // hashes and compares its chunks itself (chunk-scan.ts): only changed blocks come here.
          buffers: this.hashWorkers === 0 ? readBuffers(this.chunkBytes, CHUNKS_AHEAD) : [],
          scan: this.hashWorkers === 0 ? undefined : { run: (pos, want, old) => this.scanChunk(fd, pos, want, old), ahead: CHUNKS_AHEAD },
          writeBytes: WRITE_BYTES,
          onRead: (n) => {
            result.bytesRead += n;
            progress?.(result.bytesRead);
          },
        });
        result.complete = true;
      } catch (err: unknown) {
        if (err instanceof SinkStopped) return result;
        if (err instanceof CaptureError) throw err;
        throw new CaptureError('READ_FAILED', `volume ${this.volume}: reading ${this.path} failed: ${(err as Error).message}`, { cause: err });
      }
      return result;
    } finally {
      await handle?.close();
      this.running = false;
    }
  }
}
