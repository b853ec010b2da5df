// Seeding a volume's replica from a local copy, then the source's first sync against it: the
// replica ends up equal to the source whatever the copy held, and only the difference is sent.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { chmod, cp, mkdir, open, readFile, readdir, rm, symlink, truncate, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockCapture } from '../capture/block-capture.ts';
import { FsCapture } from '../capture/fs-capture.ts';
import type { RecordSink, VolumeCapture } from '../capture/volume-capture.ts';
import { BLOCK_SIZE } from '../hash.ts';
import { ReplicaError } from './errors.ts';
import { hashFile, walkTree } from './hashing.ts';
import { headManifest } from './head-manifest.ts';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { MemoryJournal } from './replica.test-support.ts';
import { seedSourceProblem, seedVolume } from './seed.ts';
import { verify } from './verify.ts';

const root = mkdtempSync(join(tmpdir(), 'zcsp-seed-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${++n}`);

/** Every entry of a tree with its mode and content hash or link target, for comparison. */
async function describeTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [path, e] of await walkTree(dir)) {
    if (e.type === 'file') out.set(path, `file ${e.mode.toString(8)} ${(await hashFile(e.path)).digest.toString('hex')}`);
    else if (e.type === 'dir') out.set(path, `dir ${e.mode.toString(8)}`);
    else if (e.type === 'symlink') out.set(path, `link ${e.target}`);
    else out.set(path, e.what);
  }
  return out;
}

/** A sink that journals what the capture pushes, counting the write bytes. */
function journalSink(journal: MemoryJournal): RecordSink & { written: number } {
  const sink = {
    written: 0,
    push(record: Parameters<RecordSink['push']>[0], done?: () => void): Promise<number> {
      if (record.kind === 'op' && record.op.op === 'write') sink.written += record.op.data.length;
      try {
        // Encoded, so copied: the data may be arena memory that the capture uses again after done().
        return Promise.resolve(journal.append(record));
      } finally {
        done?.();
      }
    },
  };
  return sink;
}

/** The source's first sync of `volume` as the VRA does it: attach, head manifest, adopt, pass, checkpoint. */
async function firstSync(replica: Replica, journal: MemoryJournal, capture: VolumeCapture): Promise<{ seq: number; written: number }> {
  await replica.attachVolume(capture.volume, journal.durableSeq);
  capture.adopt(await headManifest(replica, journal, capture.volume));
  const sink = journalSink(journal);
  const pass = await capture.pass(sink);
  assert.equal(pass.complete, true);
  const seq = journal.append({ kind: 'checkpoint', checkpoint: { time: Date.now(), tag: '', volumes: [{ volume: capture.volume, digest: capture.digest() }] } });
  return { seq, written: sink.written };
}

async function writeTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'a/b'), { recursive: true });
  await mkdir(join(dir, 'empty'));
  await writeFile(join(dir, 'a/big.bin'), randomBytes(40 * BLOCK_SIZE + 123));
  await writeFile(join(dir, 'a/b/small.txt'), 'hello\n');
  await writeFile(join(dir, 'moved.bin'), randomBytes(3 * BLOCK_SIZE));
  await writeFile(join(dir, 'gone.txt'), 'only in the copy');
  await writeFile(join(dir, 'zeros.bin'), Buffer.alloc(5 * BLOCK_SIZE));
  await writeFile(join(dir, 'was-file'), 'becomes a folder');
  await mkdir(join(dir, 'was-dir'));
  await writeFile(join(dir, 'was-dir/x'), 'x');
  await symlink('a/big.bin', join(dir, 'link'));
  await symlink('nowhere', join(dir, 'was-link'));
  await chmod(join(dir, 'a/b/small.txt'), 0o600);
}

describe('seeding a replica from a local copy', () => {
  it('takes the copy as the volume\'s base; the source\'s first sync sends only the difference and the checkpoint is the source exactly', async () => {
    const copy = fresh();
    const source = fresh();
    await writeTree(copy);
    await cp(copy, source, { recursive: true, verbatimSymlinks: true });
    // The source moved on: a few blocks, a rename, added, removed, type changes, modes, links.
    const fh = await open(join(source, 'a/big.bin'), 'r+');
    await fh.write(randomBytes(100), 0, 100, 7 * BLOCK_SIZE + 5);
    await fh.close();
    await rename(join(source, 'moved.bin'), join(source, 'a/moved.bin'));
    await unlink(join(source, 'gone.txt'));
    await writeFile(join(source, 'new.txt'), 'new on the source');
    await rm(join(source, 'was-file'));
    await mkdir(join(source, 'was-file'));
    await rm(join(source, 'was-dir'), { recursive: true });
    await writeFile(join(source, 'was-dir'), 'a file now');
    await unlink(join(source, 'link'));
    await symlink('a/b/small.txt', join(source, 'link'));
    await rm(join(source, 'was-link'));
    await writeFile(join(source, 'was-link'), 'a file now');
    await chmod(join(source, 'a/b/small.txt'), 0o644);
    await chmod(join(source, 'a/b'), 0o700);
    await truncate(join(source, 'zeros.bin'), 2 * BLOCK_SIZE);
    await mkdir(join(source, 'new-empty'));

    const dir = fresh();
    const replica = await Replica.open(dir, []);
    await replica.setVolumes([{ name: 'data', kind: 'fs' }], 0, new Map([['data', copy]]));
    assert.deepEqual(replica.volume('data'), { kind: 'fs', since: 0, attached: false });
    assert.deepEqual(replica.pendingSeeds(), [{ volume: 'data', kind: 'fs', path: copy }]);
    await assert.rejects(replica.attachVolume('data', 0), /being seeded/);
    const seen: number[] = [];
    const result = await seedVolume({ replica, volume: 'data', onProgress: (p) => seen.push(p.bytesDone) });
    assert.equal(result.files, 7);
    assert.equal(replica.seedOf('data')?.state, 'done');
    assert.equal(seen.at(-1), result.bytes);
    // All-zero blocks are holes in the object, not bytes.
    assert.deepEqual(replica.volumeBytes().get('data'), result.bytes);

    const journal = new MemoryJournal();
    const capture = new FsCapture({ volume: 'data', root: source, watch: false, hashWorkers: 0 });
    try {
      const { seq, written } = await firstSync(replica, journal, capture);
      // The changed block and the files the copy did not have at their path; nothing else.
      const moved = 3 * BLOCK_SIZE;
      assert.ok(written <= BLOCK_SIZE + moved + 100, `wrote ${written} bytes`);
      const out = join(fresh(), 'data');
      await materialise({ replica, journal, checkpointSeq: seq, targets: new Map([['data', out]]) });
      assert.deepEqual(await describeTree(out), await describeTree(source));
      const checked = await verify({ replica, journal, checkpointSeq: seq, targets: new Map([['data', out]]) });
      assert.equal(checked.ok, true, JSON.stringify(checked));
      // And after the journal is applied into the replica.
      await replica.apply(journal, seq);
      const out2 = join(fresh(), 'data');
      await materialise({ replica, journal, checkpointSeq: seq, targets: new Map([['data', out2]]) });
      assert.deepEqual(await describeTree(out2), await describeTree(source));
    } finally {
      capture.close();
    }
  });

  it('a block volume takes the image; only the changed blocks are sent', async () => {
    const copy = join(fresh(), 'old.img');
    const image = join(fresh(), 'disk.img');
    await mkdir(join(copy, '..'), { recursive: true });
    await mkdir(join(image, '..'), { recursive: true });
    const data = randomBytes(64 * BLOCK_SIZE);
    await writeFile(copy, data);
    for (const b of [3, 40, 41]) randomBytes(BLOCK_SIZE).copy(data, b * BLOCK_SIZE);
    await writeFile(image, Buffer.concat([data, randomBytes(1000)]));
    const replica = await Replica.open(fresh(), []);
    await replica.setVolumes([{ name: 'disk', kind: 'block' }], 0, new Map([['disk', copy]]));
    assert.equal((await seedVolume({ replica, volume: 'disk' })).bytes, 64 * BLOCK_SIZE);
    const journal = new MemoryJournal();
    const capture = new BlockCapture({ volume: 'disk', path: image, hashWorkers: 0 });
    try {
      const { seq, written } = await firstSync(replica, journal, capture);
      assert.equal(written, 3 * BLOCK_SIZE + 1000);
      const out = join(fresh(), 'disk.img');
      await materialise({ replica, journal, checkpointSeq: seq, targets: new Map([['disk', out]]) });
      assert.deepEqual(await readFile(out), await readFile(image));
    } finally {
      capture.close();
    }
  });

  it('a seed stopped half way stays pending and starts over on the next open; nothing half-done is ever the volume\'s', async () => {
    const copy = fresh();
    await mkdir(copy);
    for (let i = 0; i < 40; i++) await writeFile(join(copy, `f${i}`), randomBytes(2 * BLOCK_SIZE));
    const dir = fresh();
    let replica = await Replica.open(dir, []);
    await replica.setVolumes([{ name: 'data', kind: 'fs' }], 0, new Map([['data', copy]]));
    const abort = new AbortController();
    await assert.rejects(seedVolume({ replica, volume: 'data', signal: abort.signal, bytesPerSecond: 1024 * 1024, onProgress: (p) => {
      if (p.bytesDone > 10 * BLOCK_SIZE) abort.abort(new Error('stopped'));
    } }), /stopped/);
    assert.equal(replica.seedOf('data')?.state, 'pending');
    assert.ok((await readdir(join(dir, 'volumes/data/objects'))).length > 0, 'objects were written');
    // A restart: stray objects go, the seed is still to do, and then it is done whole.
    replica = await Replica.open(dir, []);
    assert.deepEqual(await readdir(join(dir, 'volumes/data/objects')), []);
    assert.deepEqual(replica.pendingSeeds().map((s) => s.volume), ['data']);
    const result = await seedVolume({ replica, volume: 'data' });
    assert.equal(result.files, 40);
    replica = await Replica.open(dir, []);
    assert.equal(replica.seedOf('data')?.state, 'done');
    assert.equal((await readdir(join(dir, 'volumes/data/objects'))).length, 40);
  });

  it('a copy that cannot be read fails the seed: the volume starts empty, and a seed is only for a volume the replica creates', async () => {
    const replica = await Replica.open(fresh(), []);
    const missing = join(root, 'no-such-folder');
    await replica.setVolumes([{ name: 'data', kind: 'fs' }, { name: 'disk', kind: 'block' }], 0, new Map([['data', missing], ['disk', root]]));
    await assert.rejects(seedVolume({ replica, volume: 'data' }), (err: unknown) => err instanceof ReplicaError && err.code === 'SEED' && err.message.includes('does not exist'));
    assert.deepEqual(replica.seedOf('data'), { path: missing, state: 'failed', error: `seeding volume data from ${missing} failed: ${missing} does not exist` });
    await assert.rejects(seedVolume({ replica, volume: 'disk' }), /is neither an image file nor a block device/);
    assert.equal(replica.seedOf('disk')?.state, 'failed');
    // A failed seed is over: the source may sync the volume (all of it).
    assert.equal(await replica.attachVolume('data', 0), true);
    // Seeds for volumes it already has change nothing.
    await replica.setVolumes([{ name: 'data', kind: 'fs' }, { name: 'disk', kind: 'block' }], 0, new Map([['data', root]]));
    assert.equal(replica.seedOf('data')?.state, 'failed');
    assert.deepEqual(replica.pendingSeeds(), []);
  });

  it('names what is wrong with a seed path', async () => {
    const file = join(fresh());
    await writeFile(file, 'x');
    assert.match(await seedSourceProblem('fs', join(root, 'nope')) ?? '', /does not exist$/);
    assert.match(await seedSourceProblem('fs', file) ?? '', /is not a folder/);
    assert.match(await seedSourceProblem('block', root) ?? '', /is neither an image file nor a block device/);
    assert.equal(await seedSourceProblem('block', file), undefined);
    assert.equal(await seedSourceProblem('fs', root), undefined);
    if (process.getuid?.() !== 0) {
      const locked = fresh();
      await mkdir(locked, { mode: 0o000 });
      assert.match(await seedSourceProblem('fs', locked) ?? '', /cannot be read: EACCES/);
    }
  });
});
