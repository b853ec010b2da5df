// The worker side of HashPool: hashes 64 KiB blocks of a shared buffer and sends the hashes back.
import { parentPort } from 'node:worker_threads';
import { BLOCK_SIZE, HASH_BYTES, hashBlocksInto } from '../hash.ts';

interface Job {
  id: number;
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

parentPort?.on('message', (job: Job) => {
  const data = new Uint8Array(job.buffer, job.offset, job.length);
  const out = new Uint8Array(Math.ceil(job.length / BLOCK_SIZE) * HASH_BYTES);
  hashBlocksInto(data, out);
  parentPort?.postMessage({ id: job.id, hashes: out }, [out.buffer]);
});
