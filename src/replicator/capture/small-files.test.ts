import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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

/** Both ways of reading, which must agree on everything. */
async function both(path: string, maxBytes = 1024 * 1024, under = root): Promise<SmallRead> {
  const sync = readSmallFileSync(path, under, maxBytes);
  const async = await readSmallFile(path, under, maxBytes);
  // The time stamps differ by when each read happened; everything else is the same.
  const strip = (r: SmallRead): unknown => (r.kind === 'read' ? { ...r, t: 0n } : r);
  assert.deepEqual(strip(async), strip(sync));
  return sync;
}

describe('small files read whole', () => {
  it('reads a file with its stat, taken before the content, and its block hashes', async () => {
    const content = randomBytes(rng(1), 2 * BLOCK_SIZE + 17);
    const path = join(root, 'a.dat');
    writeFileSync(path, content, { mode: 0o640 });
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await both(path);
    assert.ok(r.kind === 'read', r.kind);
    assert.ok(r.inside);
    assert.deepEqual(Buffer.from(r.data), content);
    assert.deepEqual(Buffer.from(r.hashes), Buffer.from(hashesOf(content)));
    const st = lstatSync(path, { bigint: true });
    assert.equal(inodeOf(r.st), inodeOf(st));
    assert.deepEqual([r.st.file, r.st.size, r.st.mode, r.st.nlink, r.st.mtimeNs, r.st.ctimeNs], [true, st.size, st.mode, st.nlink, st.mtimeNs, st.ctimeNs]);
    assert.ok(r.t >= before);
    // Its own memory, whole, so that a worker can hand it over without a copy.
    assert.equal(r.data.byteLength, r.data.buffer.byteLength);
    assert.deepEqual(transferables([r, { kind: 'gone' }]), [r.data.buffer, r.hashes.buffer]);
  });

  it('reads an empty file', async () => {
    const path = join(root, 'empty');
    writeFileSync(path, '');
    const r = await both(path);
    assert.ok(r.kind === 'read' && r.inside);
    assert.equal(r.data.length, 0);
    assert.equal(r.hashes.length, 0);
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
      assert.equal(r.data.length, 0, p);
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
