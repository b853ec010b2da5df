import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { BLOCK_SIZE } from '../hash.ts';
import { inodeOf } from './fs-scan.ts';
import { hashesOf } from './mirror.test-support.ts';
import { readSmallFile, readSmallFileSync, transferables, type SmallRead } from './small-files.ts';
import { randomBytes, rng } from './workload.test-support.ts';

let root: string;
let outside: string;
before(() => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'zcsp-small-files-')));
  root = join(base, 'volume');
  outside = join(base, 'elsewhere');
  mkdirSync(root);
  mkdirSync(outside);
});
after(() => {
  rmSync(join(root, '..'), { recursive: true, force: true });
});

const NONE = new Uint8Array(0);

/** Both ways of reading, which must agree on everything. */
async function both(path: string, maxBytes = 1024 * 1024, under = root, old: Uint8Array = NONE): Promise<SmallRead> {
  const sync = readSmallFileSync(path, under, maxBytes, old);
  const async = await readSmallFile(path, under, maxBytes, old);
  // The time stamps differ by when each read happened; everything else is the same.
  const strip = (r: SmallRead): unknown => (r.kind === 'read' ? { ...r, t: 0n } : r);
  assert.deepEqual(strip(async), strip(sync));
  return sync;
}

describe('small files read whole', () => {
  it('reads a new file with its stat, taken before the content, and its block hashes: all of it changed', async () => {
    const content = randomBytes(rng(1), 2 * BLOCK_SIZE + 17);
    const path = join(root, 'a.dat');
    writeFileSync(path, content, { mode: 0o640 });
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await both(path);
    assert.ok(r.kind === 'read', r.kind);
    assert.ok(r.inside);
    assert.equal(r.scan.length, content.length);
    assert.deepEqual(Buffer.from(r.scan.data), content);
    assert.deepEqual([...r.scan.changed], [1, 1, 1]);
    assert.deepEqual(Buffer.from(r.scan.hashes), Buffer.from(hashesOf(content)));
    const st = lstatSync(path, { bigint: true });
    assert.equal(inodeOf(r.st), inodeOf(st));
    assert.deepEqual([r.st.file, r.st.size, r.st.mode, r.st.nlink, r.st.mtimeNs, r.st.ctimeNs], [true, st.size, st.mode, st.nlink, st.mtimeNs, st.ctimeNs]);
    assert.ok(r.t >= before);
    // Its own memory, whole, so that a worker can hand it over without a copy.
    assert.equal(r.scan.data.byteLength, r.scan.data.buffer.byteLength);
    assert.ok(r.scan.crcs !== undefined);
    assert.deepEqual([...r.scan.crcs], [0, 1, 2].map((b) => crc32(content.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE))));
    assert.deepEqual(transferables([r, { kind: 'gone' }]), [r.scan.hashes.buffer, r.scan.changed.buffer, r.scan.data.buffer, r.scan.crcs.buffer]);
  });

  it('compares a file with the replica\'s hashes and hands back only the blocks that differ', async () => {
    const content = randomBytes(rng(3), 4 * BLOCK_SIZE + 100);
    const path = join(root, 'known.dat');
    writeFileSync(path, content);
    const old = Buffer.from(hashesOf(content));
    // The replica's block 1 and its last (short) block differ; block 5 it does not have at all.
    old[1 * 16] = (old[1 * 16] ?? 0) ^ 1;
    old[4 * 16] = (old[4 * 16] ?? 0) ^ 1;
    const r = await both(path, 1024 * 1024, root, old.subarray(0, 5 * 16));
    assert.ok(r.kind === 'read' && r.inside);
    assert.deepEqual([...r.scan.changed], [0, 1, 0, 0, 1]);
    assert.deepEqual(Buffer.from(r.scan.data), Buffer.concat([content.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE), content.subarray(4 * BLOCK_SIZE)]));
    assert.deepEqual(Buffer.from(r.scan.hashes), Buffer.from(hashesOf(content)));
    // Nothing changed: nothing comes back but the hashes.
    const same = await both(path, 1024 * 1024, root, hashesOf(content));
    assert.ok(same.kind === 'read');
    assert.deepEqual([[...same.scan.changed], same.scan.data.length], [[0, 0, 0, 0, 0], 0]);
    // Grown since: the blocks the replica has no hash for are changed.
    const shorter = await both(path, 1024 * 1024, root, hashesOf(content.subarray(0, 2 * BLOCK_SIZE)));
    assert.ok(shorter.kind === 'read');
    assert.deepEqual([...shorter.scan.changed], [0, 0, 1, 1, 1]);
  });

  it('reads an empty file', async () => {
    const path = join(root, 'empty');
    writeFileSync(path, '');
    const r = await both(path);
    assert.ok(r.kind === 'read' && r.inside);
    assert.deepEqual([r.scan.length, r.scan.data.length, r.scan.hashes.length, r.scan.changed.length], [0, 0, 0, 0]);
    assert.deepEqual(transferables([r]), []);
  });

  it('says gone for a missing file, a symlink (never followed) and a path through a file', async () => {
    writeFileSync(join(root, 'plain'), 'x');
    symlinkSync(join(root, 'plain'), join(root, 'link'));
    for (const p of ['missing', 'link', 'plain/below']) assert.deepEqual(await both(join(root, p)), { kind: 'gone' }, p);
  });

  it('stats but does not read what is no regular file, or is bigger than asked', async () => {
    mkdirSync(join(root, 'folder'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    writeFileSync(join(root, 'big'), randomBytes(rng(2), 5000));
    for (const [p, file] of [['folder', false], ['fifo', false], ['big', true]] as const) {
      const r = await both(join(root, p), 4096);
      assert.ok(r.kind === 'read', p);
      assert.equal(r.st.file, file, p);
      assert.equal(r.inside, false, p);
      assert.equal(r.scan.length, 0, p);
    }
  });

  it('tells a file whose opened descriptor is not under the root', async () => {
    writeFileSync(join(outside, 'secret'), 'not for the replica');
    // A folder of the volume swapped for a link to elsewhere: the open follows it (only the last
    // component is O_NOFOLLOW), and /proc says where the file really is.
    symlinkSync(outside, join(root, 'swapped'));
    const r = await both(join(root, 'swapped', 'secret'));
    assert.ok(r.kind === 'read');
    assert.equal(r.inside, false);
    // Not read: nothing of it leaves the thread that opened it.
    assert.deepEqual([r.scan.length, r.scan.data.length], [0, 0]);
    const same = await both(join(outside, 'secret'), 1024, outside);
    assert.ok(same.kind === 'read' && same.inside);
    // The root's own name as a prefix of a sibling's is not inside it.
    const r2 = await both(join(outside, 'secret'), 1024, outside.slice(0, -1));
    assert.ok(r2.kind === 'read' && !r2.inside);
  });

  it('reports any other failure with its code and message', async () => {
    const long = join(root, 'x'.repeat(300));
    const r = await both(long);
    assert.ok(r.kind === 'failed', r.kind);
    assert.equal(r.code, 'ENAMETOOLONG');
    assert.match(r.message, /name too long/);
    assert.ok(lstatSync(root).isDirectory());
  });
});
