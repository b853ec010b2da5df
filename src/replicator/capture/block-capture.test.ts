import assert from 'node:assert/strict';
import { copyFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES } from '../hash.ts';
import { BlockCapture } from './block-capture.ts';
import { MirrorSink, digestOfBytes, hashesOf } from './mirror.test-support.ts';
import { randomBytes, rng } from './workload.test-support.ts';
import { CaptureError } from './volume-capture.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'zcsp-block-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

let n = 0;
async function setup(size: number, seed: number): Promise<{ image: string; mirror: string; sink: MirrorSink }> {
  const image = join(base, `img${n}`);
  const mirror = join(base, `mirror${n++}`);
  await writeFile(image, randomBytes(rng(seed), size));
  await writeFile(mirror, '');
  return { image, mirror, sink: new MirrorSink().blockVolume('disk', mirror) };
}

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const h = await open(path, 'r+');
  await h.write(data, 0, data.length, offset);
  await h.close();
}

async function assertSame(image: string, mirror: string, context: string): Promise<void> {
  const [a, b] = [await readFile(image), await readFile(mirror)];
  assert.equal(b.length, a.length, `${context}: size`);
  assert.ok(a.equals(b), `${context}: content`);
}

describe('BlockCapture', () => {
  it('copies an image, then sends only changed blocks, coalesced', async () => {
    const { image, mirror, sink } = await setup(5 * 1024 * 1024 + 1000, 1);
    const cap = new BlockCapture({ volume: 'disk', path: image, chunkBytes: 2 * 1024 * 1024 });
    const r1 = await cap.pass(sink);
    assert.equal(r1.complete, true);
    assert.equal(r1.bytesChanged, 5 * 1024 * 1024 + 1000);
    await assertSame(image, mirror, 'initial');
    assert.deepEqual(Buffer.from(cap.digest()), digestOfBytes(await readFile(mirror)));
    // three adjacent blocks and one lone block
    await writeAt(image, 10 * BLOCK_SIZE + 7, Buffer.alloc(2 * BLOCK_SIZE, 1));
    await writeAt(image, 40 * BLOCK_SIZE, Buffer.from('x'));
    const mark = sink.records.length;
    const r2 = await cap.pass(sink);
    assert.equal(r2.bytesChanged, 4 * BLOCK_SIZE);
    const writes = sink.records.slice(mark).map((r) => (r.kind === 'op' && r.op.op === 'write' ? [r.op.offset, r.op.data.length] : []));
    assert.deepEqual(writes, [[10 * BLOCK_SIZE, 3 * BLOCK_SIZE], [40 * BLOCK_SIZE, BLOCK_SIZE]]);
    await assertSame(image, mirror, 'after writes');
    const r3 = await cap.pass(sink);
    assert.equal(r3.ops, 0);
    assert.equal(r3.bytesRead, 5 * 1024 * 1024 + 1000);
    cap.close();
  });

  it('follows random writes and resizes over many passes', async () => {
    const { image, mirror, sink } = await setup(3 * 1024 * 1024, 2);
    const r = rng(3);
    const cap = new BlockCapture({ volume: 'disk', path: image, chunkBytes: 1024 * 1024 });
    for (let pass = 0; pass < 25; pass++) {
      for (let k = 0; k < 4; k++) {
        const size = (await readFile(image)).length;
        if (r() < 0.2) await truncate(image, Math.floor(r() * 4 * 1024 * 1024));
        else await writeAt(image, Math.floor(r() * (size + 100_000)), randomBytes(r, 1 + Math.floor(r() * 300_000)));
      }
      const res = await cap.pass(sink);
      assert.equal(res.complete, true);
      await assertSame(image, mirror, `pass ${pass}`);
      assert.deepEqual(Buffer.from(cap.digest()), digestOfBytes(await readFile(image)));
    }
    const truncates = sink.ops('truncate');
    assert.ok(truncates.length > 0 && truncates.every((op) => op.op === 'truncate' && op.id === 0));
    cap.close();
  });

  it('stops when the sink refuses and resumes where it stopped', async () => {
    const { image, mirror, sink } = await setup(4 * 1024 * 1024, 4);
    const cap = new BlockCapture({ volume: 'disk', path: image });
    sink.budget = 2;
    const r1 = await cap.pass(sink);
    assert.equal(r1.complete, false);
    assert.equal(r1.ops, 2);
    // accepted: the truncate to 4 MiB and the first 1 MiB write; the next pass sends the rest
    assert.equal(cap.manifest().size, 4 * 1024 * 1024);
    sink.budget = Infinity;
    const r2 = await cap.pass(sink);
    assert.equal(r2.complete, true);
    assert.equal(r2.bytesChanged, 3 * 1024 * 1024);
    await assertSame(image, mirror, 'after resume');
    cap.close();
  });

  it('after adopting a manifest sends only the blocks that differ', async () => {
    const { image, mirror, sink } = await setup(2 * 1024 * 1024, 5);
    await copyFile(image, mirror);
    const data = await readFile(image);
    const hashes = hashesOf(data);
    // The replica's block 5 is different; the source grew by a block.
    const old = Buffer.from(data);
    old.fill(0, 5 * BLOCK_SIZE, 6 * BLOCK_SIZE);
    await writeFile(mirror, old);
    hashes.set(hashesOf(old.subarray(5 * BLOCK_SIZE, 6 * BLOCK_SIZE)), 5 * HASH_BYTES);
    await writeAt(image, data.length, randomBytes(rng(6), BLOCK_SIZE));
    const cap = new BlockCapture({ volume: 'disk', path: image });
    cap.adopt({ kind: 'block', size: data.length, hashes });
    const r = await cap.pass(sink);
    assert.equal(r.bytesChanged, 2 * BLOCK_SIZE);
    await assertSame(image, mirror, 'after delta sync');
    cap.adopt({ kind: 'block', size: 0, hashes: new Uint8Array() });
    await writeFile(mirror, '');
    const full = await cap.pass(sink);
    assert.equal(full.bytesChanged, data.length + BLOCK_SIZE, 'an empty manifest: everything');
    await assertSame(image, mirror, 'after initial sync');
    cap.close();
  });

  it('refuses bad manifests, options and paths with clear errors', async () => {
    const cap = new BlockCapture({ volume: 'disk', path: join(base, 'missing') });
    const isCode = (code: string, re: RegExp) => (err: unknown) => err instanceof CaptureError && err.code === code && re.test(err.message);
    assert.throws(() => cap.adopt({ kind: 'fs', entries: new Map() }), isCode('BAD_MANIFEST', /fs manifest given to a block capture/));
    assert.throws(() => cap.adopt({ kind: 'block', size: 100, hashes: new Uint8Array(3) }), isCode('BAD_MANIFEST', /3 bytes of block hashes, 16 expected for size 100/));
    assert.throws(() => cap.adopt({ kind: 'block', size: -1, hashes: new Uint8Array() }), isCode('BAD_MANIFEST', /size -1/));
    await assert.rejects(cap.pass(new MirrorSink()), isCode('READ_FAILED', /opening .*missing failed: ENOENT/));
    const dirCap = new BlockCapture({ volume: 'disk', path: base });
    await assert.rejects(dirCap.pass(new MirrorSink()), isCode('BAD_OPTION', /neither a regular file nor a block device/));
    assert.throws(() => new BlockCapture({ volume: 'disk', path: base, chunkBytes: 1000 }), /chunkBytes 1000 is not a positive multiple of 65536/);
    assert.throws(() => new BlockCapture({ volume: 'disk', path: base, hashWorkers: -1 }), /hashWorkers -1 is not in 0\.\.64/);
    assert.throws(() => new BlockCapture({ volume: '-x', path: base }), /volume "-x" is not a DNS subdomain/);
    cap.close();
    await assert.rejects(cap.pass(new MirrorSink()), isCode('CLOSED', /closed/));
  });

  it('reports its size for progress', async () => {
    const { image } = await setup(123_456, 7);
    const cap = new BlockCapture({ volume: 'disk', path: image });
    assert.equal(await cap.sizeBytes(), 123_456);
    cap.close();
  });

  it('finds the same blocks hashing on workers as on this thread, and when closed mid-pass', async () => {
    const size = 9 * 1024 * 1024 + 4321;
    const { image, mirror, sink } = await setup(size, 77);
    const onWorkers = new BlockCapture({ volume: 'disk', path: image, chunkBytes: 1024 * 1024, hashWorkers: 2 });
    const here = new BlockCapture({ volume: 'disk', path: image, chunkBytes: 1024 * 1024, hashWorkers: 0 });
    await onWorkers.pass(sink);
    const accept = { push: () => Promise.resolve(1) };
    await here.pass(accept);
    assert.deepEqual(onWorkers.manifest(), here.manifest());
    for (let round = 0; round < 3; round++) {
      const r = rng(500 + round);
      for (let k = 0; k < 6; k++) await writeAt(image, Math.floor(r() * (size - 100)), randomBytes(r, 100));
      const base0 = here.manifest();
      const a = await onWorkers.pass(sink);
      await assertSame(image, mirror, `round ${round}`);
      here.adopt(base0);
      const b = await here.pass(accept);
      assert.equal(a.bytesChanged, b.bytesChanged);
      assert.deepEqual(onWorkers.manifest(), here.manifest());
    }
    // Closing stops the workers; a pass running then still gets every hash (hashed here).
    await writeAt(image, 5 * 1024 * 1024, randomBytes(rng(9), 70_000));
    const running = onWorkers.pass(sink);
    onWorkers.close();
    const last = await running;
    assert.equal(last.complete, true);
    await assertSame(image, mirror, 'after closing mid-pass');
    assert.deepEqual(Buffer.from(onWorkers.digest()), digestOfBytes(await readFile(image)));
    here.close();
  });
});
