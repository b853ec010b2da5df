// The worker side of HashPool: hashes 64 KiB blocks of a shared buffer and sends the hashes back.
import { parentPort } from 'node:worker_threads';
import { BLOCK_SIZE, HASH_BYTES, blockHash } from '../hash.ts';

interface Job {
  id: number;
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

parentPort?.on('message', (job: Job) => {
  const data = new Uint8Array(job.buffer, job.offset, job.length);
  const out = new Uint8Array(Math.ceil(job.length / BLOCK_SIZE) * HASH_BYTES);
  for (let off = 0, i = 0; off < job.length; off += BLOCK_SIZE, i++) out.set(blockHash(data.subarray(off, off + BLOCK_SIZE)), i * HASH_BYTES);
  parentPort?.postMessage({ id: job.id, hashes: out }, [out.buffer]);
});
