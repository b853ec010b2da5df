import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BLOCK_SIZE, blockHash } from '../hash.ts';
import type { ManifestEntry } from '../manifest.ts';
import { ReplicaError } from './errors.ts';
import { headManifest } from './head-manifest.ts';
import { Replica } from './replica.ts';
import { Workload, type VolumeModel } from './replica.test-support.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-head-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function hashes(data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += BLOCK_SIZE) out.push(blockHash(data.subarray(off, off + BLOCK_SIZE)));
  return Buffer.concat(out);
}

function expectedEntries(v: VolumeModel): Map<string, ManifestEntry> {
  const out = new Map<string, ManifestEntry>();
  if (v.kind !== 'fs') throw new Error('not fs');
  for (const [path, e] of v.entries) {
    if (e.type === 'dir') out.set(path, { type: 'dir', mode: e.mode });
    else if (e.type === 'symlink') out.set(path, { type: 'symlink', target: e.target });
    else {
      const f = v.files.get(e.id);
      if (f === undefined) throw new Error(`no id ${e.id}`);
      out.set(path, { type: 'file', id: e.id, mode: f.mode, size: f.data.length, hashes: hashes(f.data) });
    }
  }
  return out;
}

describe('headManifest', () => {
  it('is the replica plus every durable record, past the last checkpoint too, with the source ids', async () => {
    const replica = await Replica.open(join(root, 'r1'), VOLUMES);
    const w = new Workload(51, VOLUMES);
    w.random(80);
    await replica.apply(w.journal, w.checkpoint());
    w.random(80);
    w.checkpoint();
    w.random(30); // an unfinished pass: no checkpoint yet
    const fs = await headManifest(replica, w.journal, 'data');
    assert.ok(fs.kind === 'fs');
    assert.deepEqual(fs.entries, expectedEntries(w.model.get('data') as VolumeModel));
    const block = await headManifest(replica, w.journal, 'disk');
    const disk = w.model.get('disk');
    assert.ok(disk?.kind === 'block');
    assert.deepEqual(block, { kind: 'block', size: disk.data.length, hashes: hashes(disk.data) });
    // The scratch copy is gone.
    assert.deepEqual(await readdir(replica.scratchDir()), []);
    assert.deepEqual((await readdir(replica.dir)).sort(), ['replica.json', 'scratch', 'volumes']);
  });

  it('is the replica\'s own files, hashed in place, when nothing of the volume is past them', async () => {
    const replica = await Replica.open(join(root, 'r4'), VOLUMES);
    const w = new Workload(52, VOLUMES);
    w.random(120);
    const cp = w.checkpoint();
    // Only the block volume moves on after the checkpoint: the fs volume's head is the replica.
    await replica.apply(w.journal, cp);
    w.op('disk', { op: 'write', id: 0, offset: 3, data: Buffer.from('later') });
    w.checkpoint();
    assert.ok(w.journal.durableSeq > replica.appliedSeq);
    const fs = await headManifest(replica, w.journal, 'data');
    assert.ok(fs.kind === 'fs');
    assert.deepEqual(fs.entries, expectedEntries(w.model.get('data') as VolumeModel));
    const disk = w.model.get('disk');
    assert.ok(disk?.kind === 'block');
    assert.deepEqual(await headManifest(replica, w.journal, 'disk'), { kind: 'block', size: disk.data.length, hashes: hashes(disk.data) });
    assert.deepEqual(await readdir(replica.scratchDir()).catch(() => []), []);
  });

  it('of an empty replica and journal is empty', async () => {
    const replica = await Replica.open(join(root, 'r2'), VOLUMES);
    const w = new Workload(1, VOLUMES);
    assert.deepEqual(await headManifest(replica, w.journal, 'data'), { kind: 'fs', entries: new Map() });
    assert.deepEqual(await headManifest(replica, w.journal, 'disk'), { kind: 'block', size: 0, hashes: Buffer.alloc(0) });
  });

  it('refuses an unknown volume', async () => {
    const replica = await Replica.open(join(root, 'r3'), VOLUMES);
    await assert.rejects(headManifest(replica, new Workload(1, VOLUMES).journal, 'nope'), (err: unknown) => err instanceof ReplicaError && err.code === 'VOLUME' && /no volume nope/.test(err.message));
  });
});
