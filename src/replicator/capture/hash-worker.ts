// The worker side of HashPool: reads a chunk of an open file, hashes and compares it
// (chunk-scan.ts), and sends back what changed; reads a batch of small files whole
// (small-files.ts); or looks at a batch of paths (fs-scan.ts). A message that is none of these
// ends the worker (the pool does its jobs on its own thread from then on).
import { parentPort } from 'node:worker_threads';
import { diffChunk, readChunkSync, type ScanRequest } from './chunk-scan.ts';
import { lookSync } from './fs-scan.ts';
import { readSmallFilesSync, transferables, type SmallFilesRequest } from './small-files.ts';
import { errorCode } from './volume-capture.ts';

interface Job {
  id: number;
  scan?: ScanRequest;
  files?: SmallFilesRequest;
  look?: string[];
}

/** This worker's read buffer: plain memory, which the hasher copies from fastest. */
let readBuffer = Buffer.allocUnsafeSlow(0);

parentPort?.on('message', (job: Job) => {
  if (job.files !== undefined) {
    const files = readSmallFilesSync(job.files);
    parentPort?.postMessage({ id: job.id, files }, transferables(files));
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
  const out = diffChunk(readBuffer.subarray(0, got), r.old);
  parentPort?.postMessage({ id: job.id, scan: out }, [out.hashes.buffer, out.changed.buffer, out.data.buffer]);
});
