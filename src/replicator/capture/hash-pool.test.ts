import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES } from '../hash.ts';
import { diffChunk, type ChunkScan, type ScanRequest } from './chunk-scan.ts';
import { counted, inodeOf, look, lookSync, newCounts } from './fs-scan.ts';
import { HashPool } from './hash-pool.ts';
import { wire } from './hash-worker.ts';
import { readSmallFilesSync, type SmallFilesRequest, type SmallRead } from './small-files.ts';
import { hashesOf } from './mirror.test-support.ts';
import { randomBytes, rng } from './workload.test-support.ts';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'zcsp-hash-pool-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A file of random bytes, open for reading; the replica's hashes are wrong for every third block. */
function image(seed: number, bytes: number): { fd: number; content: Buffer; requests: (chunk: number) => ScanRequest[] } {
  const path = join(dir, `img${n++}`);
  const content = randomBytes(rng(seed), bytes);
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  const requests = (chunk: number): ScanRequest[] =>
    Array.from({ length: Math.ceil(bytes / chunk) }, (_, i) => {
      const pos = i * chunk;
      const want = Math.min(chunk, bytes - pos);
      const old = hashesOf(content.subarray(pos, pos + want));
      for (let b = 0; b * BLOCK_SIZE < want; b += 3) old[b * HASH_BYTES] = (old[b * HASH_BYTES] ?? 0) ^ 0xff;
      return { fd, pos, want, old };
    });
  return { fd, content, requests };
}

function expected(content: Buffer, r: ScanRequest): ReturnType<typeof diffChunk> {
  return diffChunk(content.subarray(r.pos, r.pos + r.want), r.old);
}

describe('HashPool', () => {
  it('scans chunks of an open file on workers exactly as on this thread: short, empty and partial chunks too', async () => {
    const { fd, content, requests } = image(1, 9 * BLOCK_SIZE + 5);
    const pool = new HashPool(2);
    try {
      assert.equal(pool.size, 2);
      const all = [...requests(2 * BLOCK_SIZE), { fd, pos: BLOCK_SIZE, want: 0, old: new Uint8Array(0) }, { fd, pos: 8 * BLOCK_SIZE, want: 4 * BLOCK_SIZE, old: new Uint8Array(0) }];
      const got = await Promise.all(all.map((r) => pool.scan(r)));
      all.forEach((r, i) => assert.deepEqual(got[i], expected(content, r), `request ${i}`));
      assert.equal(got.at(-1)?.length, BLOCK_SIZE + 5, 'past the end: what there is');
    } finally {
      await pool.close();
      closeSync(fd);
    }
  });

  it('packs changed blocks into its arena, falls back to memory of its own when the ring is full, and packs again once holds are released', async () => {
    const { fd, content, requests } = image(2, 16 * BLOCK_SIZE);
    // 4 chunks of 4 blocks, every third block stale: 2 changed blocks (128 KiB) each, and a
    // ring of 300 KiB: two chunks fit, the third does not.
    const pool = new HashPool(1, { arenaBytes: 300 * 1024 });
    const same = (got: ChunkScan, want: ChunkScan, what: string): void => {
      assert.equal(got.length, want.length, what);
      assert.deepEqual([...got.hashes], [...want.hashes], what);
      assert.deepEqual([...got.changed], [...want.changed], what);
      assert.ok(Buffer.from(got.data).equals(Buffer.from(want.data)), `${what}: changed bytes`);
    };
    try {
      const reqs = requests(4 * BLOCK_SIZE);
      const got: ChunkScan[] = [];
      for (const r of reqs) got.push(await pool.scan(r));
      reqs.forEach((r, i) => same(got[i] ?? assert.fail(), expected(content, r), `chunk ${i}`));
      assert.deepEqual(got.map((g) => g.data.buffer instanceof SharedArrayBuffer), [true, true, false, false]);
      assert.deepEqual(got.map((g) => g.hold !== undefined), [true, true, false, false], 'only arena memory comes with a hold');
      for (const g of got) g.hold?.release();
      const again = await pool.scan(reqs[3] ?? assert.fail());
      assert.ok(again.data.buffer instanceof SharedArrayBuffer, 'packed again once the holds are released');
      same(again, expected(content, reqs[3] ?? assert.fail()), 'again');
      again.hold?.release();
      assert.equal(pool.arena?.rings[0]?.count, 0);
    } finally {
      await pool.close();
      closeSync(fd);
    }
  });

  it('sends packed blocks across as their place in the arena, and an empty scan as nothing', () => {
    const memory: Uint8Array = new Uint8Array(new SharedArrayBuffer(1024));
    const hashes = new Uint8Array(16);
    const changed = new Uint8Array([1]);
    assert.deepEqual(wire({ length: 10, hashes, changed, data: memory.subarray(100, 110) as Uint8Array<ArrayBuffer> }).packed, { at: 100, length: 10 });
    const empty = wire({ length: 0, hashes, changed, data: memory.subarray(200, 200) as Uint8Array<ArrayBuffer> });
    assert.equal(empty.packed, undefined, 'a new file found empty: nothing in the arena to hold');
    assert.equal(empty.data.buffer instanceof SharedArrayBuffer, false);
    const own = new Uint8Array(4);
    assert.equal(wire({ length: 4, hashes, changed, data: own }).data, own);
  });

  it('loses nothing when a worker dies with scans in hand: they are done here', async () => {
    const { fd, content, requests } = image(2, 16 * 1024 * 1024 + 777);
    const pool = new HashPool(2);
    try {
      const all = requests(1024 * 1024);
      const pending = all.map((r) => pool.scan(r));
      const [victim] = pool.workers();
      assert.ok(victim);
      const exited = once(victim, 'exit');
      await victim.terminate();
      await exited;
      const got = await Promise.all(pending);
      all.forEach((r, i) => assert.deepEqual(got[i], expected(content, r), `chunk ${i}`));
      assert.equal(pool.size, 1);
      // The survivor carries on.
      const [more] = requests(5 * BLOCK_SIZE);
      assert.ok(more);
      assert.deepEqual(await pool.scan(more), expected(content, more));
    } finally {
      await pool.close();
      closeSync(fd);
    }
  });

  it('scans on this thread once every worker is gone, or the pool is closed', async () => {
    const { fd, content, requests } = image(3, 7 * BLOCK_SIZE + 3);
    const [r] = requests(8 * BLOCK_SIZE);
    assert.ok(r);
    const pool = new HashPool(1);
    const pending = pool.scan(r);
    const [only] = pool.workers();
    assert.ok(only);
    // A worker that crashes (a job it does not know) rather than being stopped.
    const exited = new Promise((resolve) => only.on('exit', resolve));
    only.postMessage({ id: -1 });
    await exited;
    assert.deepEqual(await pending, expected(content, r));
    assert.equal(pool.size, 0);
    assert.deepEqual(await pool.scan(r), expected(content, r));
    await pool.close();
    assert.deepEqual(await pool.scan(r), expected(content, r));
    const closed = new HashPool(1);
    await closed.close();
    assert.deepEqual(await closed.scan(r), expected(content, r));
    closeSync(fd);
  });

  it('rejects a read error with its code, and the worker carries on', async () => {
    const { fd, content, requests } = image(4, 3 * BLOCK_SIZE);
    const pool = new HashPool(1);
    try {
      const [r] = requests(4 * BLOCK_SIZE);
      assert.ok(r);
      const folder = openSync(dir, 'r');
      await assert.rejects(pool.scan({ ...r, fd: folder }), (err: unknown) => (err as NodeJS.ErrnoException).code === 'EISDIR' && /illegal operation on a directory/i.test((err as Error).message));
      closeSync(folder);
      assert.equal(pool.size, 1);
      assert.deepEqual(await pool.scan(r), expected(content, r));
    } finally {
      await pool.close();
      closeSync(fd);
    }
  });

  it('reads batches of small files on workers exactly as on this thread, and takes them back from a worker that dies', async () => {
    const paths = Array.from({ length: 40 }, (_, i) => {
      const path = join(dir, `small${n++}`);
      writeFileSync(path, randomBytes(rng(100 + i), (i * 7919) % (3 * BLOCK_SIZE)));
      return path;
    });
    // Every other file is known to the replica, with one block of it stale.
    const old = (path: string, i: number): Uint8Array => {
      if (i % 2 === 0) return new Uint8Array(0);
      const hashes = hashesOf(readFileSync(path));
      if (hashes.length > 0) hashes[0] = (hashes[0] ?? 0) ^ 1;
      return hashes;
    };
    const batches: SmallFilesRequest[] = [0, 10, 20, 30].map((from) => {
      const batch = [...paths.slice(from, from + 10), join(dir, 'missing')];
      return { paths: batch, old: batch.map(old), root: dir, maxBytes: 2 * BLOCK_SIZE };
    });
    const strip = (reads: SmallRead[]): unknown => reads.map((r) => (r.kind === 'read' ? { ...r, t: 0n } : r));
    const pool = new HashPool(2);
    try {
      const pending = batches.map((b) => pool.readFiles(b));
      const [victim] = pool.workers();
      assert.ok(victim);
      await victim.terminate();
      const got = await Promise.all(pending);
      batches.forEach((b, i) => assert.deepEqual(strip(got[i] ?? []), strip(readSmallFilesSync(b)), `batch ${i}`));
      assert.equal(got[0]?.at(-1)?.kind, 'gone');
      await pool.close();
      const [first] = batches;
      assert.ok(first);
      assert.deepEqual(strip(await pool.readFiles(first)), strip(readSmallFilesSync(first)));
    } finally {
      await pool.close();
    }
  });

  it('looks at paths on workers exactly as on this thread, and takes them back from a worker that dies', async () => {
    const at = join(dir, `look${n++}`);
    mkdirSync(join(at, 'sub'), { recursive: true });
    writeFileSync(join(at, 'file'), 'content', { mode: 0o640 });
    symlinkSync('sub/target', join(at, 'link'));
    // Not a volume path (empty is not allowed) and not UTF-8: both are unusable link targets.
    symlinkSync(Buffer.from([0x66, 0xff]), join(at, 'badlink'));
    execFileSync('mkfifo', [join(at, 'fifo')]);
    writeFileSync(join(at, 'notdir'), 'x');
    const paths = ['file', 'sub', 'link', 'badlink', 'fifo', 'missing', 'notdir/below', 'x'.repeat(300)].map((p) => join(at, p));
    const here = await Promise.all(paths.map(look));
    assert.deepEqual(here.map((l) => l.kind), ['seen', 'seen', 'seen', 'badName', 'special', 'gone', 'gone', 'failed']);
    assert.deepEqual(paths.map(lookSync), here);
    const st = lstatSync(join(at, 'file'), { bigint: true });
    assert.deepEqual(here[0], { kind: 'seen', seen: { type: 'file', inode: inodeOf(st), size: 7, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: 0o640, nlink: 1 } });
    assert.deepEqual(here[2]?.kind === 'seen' && [here[2].seen.type, here[2].seen.target], ['symlink', 'sub/target']);
    assert.deepEqual(here[7]?.kind === 'failed' && here[7].code, 'ENAMETOOLONG');
    const pool = new HashPool(2);
    try {
      const pending = [pool.look(paths), pool.look(paths.slice(2)), pool.look(paths.slice(4))];
      const [victim] = pool.workers();
      assert.ok(victim);
      await victim.terminate();
      assert.deepEqual(await Promise.all(pending), [here, here.slice(2), here.slice(4)]);
    } finally {
      await pool.close();
    }
  });

  it('counts what a look found for the pass, and throws a failure with its code', () => {
    const counts = newCounts();
    const dir = { type: 'dir', inode: '1:2:3', size: 0, mtimeNs: 1n, ctimeNs: 1n, mode: 0o755, nlink: 2 } as const;
    assert.equal(counted({ kind: 'seen', seen: dir }, counts), dir);
    for (const kind of ['gone', 'raced', 'badName', 'special'] as const) assert.equal(counted({ kind }, counts), undefined);
    assert.deepEqual(counts, { looked: 5, raced: 1, badNames: 1, special: 1 });
    assert.throws(() => counted({ kind: 'failed', message: 'EACCES: permission denied', code: 'EACCES' }, counts), (err: Error & { code?: string }) => err.code === 'EACCES' && /permission denied/.test(err.message));
  });

  it('does not keep the process alive while idle', async () => {
    const { fd, content, requests } = image(5, BLOCK_SIZE);
    const pool = new HashPool(1);
    const [r] = requests(BLOCK_SIZE);
    assert.ok(r);
    assert.deepEqual(await pool.scan(r), expected(content, r));
    closeSync(fd);
    // Left open on purpose: were an idle worker still ref'd, this file's process would not end.
  });
});
