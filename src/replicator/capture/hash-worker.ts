// The worker side of HashPool: reads a chunk of an open file, hashes and compares it
// (chunk-scan.ts), and sends back what changed; reads a batch of small files whole
// (small-files.ts); or looks at a batch of paths (fs-scan.ts). A message that is none of these
// ends the worker (the pool does its jobs on its own thread from then on).
//
// What changed is packed into this worker's ring of the pool's arena (block-arena.ts) when it
// has room, and crosses back as a place in it; otherwise it crosses in memory of its own,
// transferred.
import { parentPort } from 'node:worker_threads';
import { RingWriter, type RingWriterSetup } from './block-arena.ts';
import { diffChunk, readChunkSync, type ChunkScan, type PackInto, type ScanRequest } from './chunk-scan.ts';
import { lookSync } from './fs-scan.ts';
import type { WireScan } from './hash-pool.ts';
import { isShared, readSmallFilesSync, transferables, type SmallFilesRequest } from './small-files.ts';
import { errorCode } from './volume-capture.ts';

interface Job {
  id: number;
  scan?: ScanRequest;
  files?: SmallFilesRequest;
  look?: string[];
}

/** This worker's read buffer: plain memory, which the hasher copies from fastest. */
let readBuffer = Buffer.allocUnsafeSlow(0);
/** This worker's ring of the pool's arena, sent once before any job. */
let pack: PackInto | undefined;
const EMPTY = new Uint8Array(0);

/**
 * A scan as it crosses: data packed in the arena goes as its place there; none at all (a new file
 * found empty when read) as nothing, though room was taken for it (the ring skips it).
 */
export function wire(scan: ChunkScan): WireScan {
  if (!isShared(scan.data)) return scan;
  const base = { length: scan.length, hashes: scan.hashes, changed: scan.changed, data: EMPTY, ...(scan.crcs !== undefined && { crcs: scan.crcs }) };
  return scan.data.byteLength === 0 ? base : { ...base, packed: { at: scan.data.byteOffset, length: scan.data.byteLength } };
}

parentPort?.on('message', (job: Job | { ring: RingWriterSetup }) => {
  if ('ring' in job) {
    const writer = new RingWriter(job.ring);
    pack = (n) => writer.alloc(n);
    return;
  }
  if (job.files !== undefined) {
    const files = readSmallFilesSync(job.files, pack);
    const transfer = transferables(files);
    parentPort?.postMessage({ id: job.id, files: files.map((f) => (f.kind === 'read' ? { ...f, scan: wire(f.scan) } : f)) }, transfer);
    return;
  }
  if (job.look !== undefined) {
    parentPort?.postMessage({ id: job.id, looked: job.look.map(lookSync) });
    return;
  }
  const r = job.scan;
  if (r === undefined) throw new Error(`hash worker: job ${String(job.id)} is no scan, files or look`);
  if (readBuffer.length < r.want) readBuffer = Buffer.allocUnsafeSlow(r.want);
  let got: number;
  try {
    got = readChunkSync(r.fd, readBuffer, r.want, r.pos);
  } catch (err: unknown) {
    const code = errorCode(err);
    parentPort?.postMessage({ id: job.id, error: { message: (err as Error).message, ...(code !== undefined && { code }) } });
    return;
  }
  const out = diffChunk(readBuffer.subarray(0, got), r.old, undefined, pack);
  const transfer = [out.hashes.buffer, out.changed.buffer, ...(out.crcs === undefined ? [] : [out.crcs.buffer])];
  if (!isShared(out.data) && out.data.byteLength > 0) transfer.push(out.data.buffer);
  parentPort?.postMessage({ id: job.id, scan: wire(out) }, transfer);
});
