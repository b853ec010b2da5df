// Volumes that come and go while a stream runs: which records belong to which life of a volume
// name, which checkpoints hold a volume, and what the replica keeps of a removed one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicaError } from './errors.ts';
import { headManifest } from './head-manifest.ts';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { diffWithModel, MemoryJournal, Workload, type VolumeModel } from './replica.test-support.ts';
import { verify } from './verify.ts';

const root = mkdtempSync(join(tmpdir(), 'zcsp-replica-volumes-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${++n}`);
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const emptyFs = (): VolumeModel => ({ kind: 'fs', entries: new Map(), files: new Map() });

async function assertRecovers(replica: Replica, w: Workload, seq: number, volumes: readonly string[]): Promise<void> {
  const out = fresh();
  const targets = new Map(volumes.map((v) => [v, join(out, v)]));
  await materialise({ replica, journal: w.journal, checkpointSeq: seq, targets });
  for (const v of volumes) {
    const model = w.snapshots.get(seq)?.get(v);
    assert.ok(model !== undefined, `the workload had ${v} at ${seq}`);
    assert.deepEqual(await diffWithModel(join(out, v), model), [], `${v} at ${seq}`);
  }
  const result = await verify({ replica, journal: w.journal, checkpointSeq: seq, targets });
  assert.equal(result.ok, true, JSON.stringify(result));
}

const refused = (pattern: RegExp) => (err: unknown): boolean => err instanceof ReplicaError && err.code === 'VOLUME' && pattern.test(err.message);

describe('replica volumes over time', () => {
  it('attaches volumes at once on a stream with nothing journaled, and refuses a kind change before changing anything', async () => {
    const r = await Replica.open(fresh(), []);
    assert.deepEqual(await r.setVolumes([{ name: 'data', kind: 'fs' }, { name: 'disk', kind: 'block' }], 0), { added: ['data', 'disk'], removed: [] });
    assert.deepEqual(r.volume('data'), { kind: 'fs', since: 0, attached: true });
    await assert.rejects(r.setVolumes([{ name: 'data', kind: 'block' }, { name: 'new', kind: 'fs' }], 0), refused(/^volumes\.0\.kind: volume data is a fs volume .*, not block/));
    assert.deepEqual(r.volumes().map((v) => v.name), ['data', 'disk'], 'nothing added, nothing removed');
    assert.deepEqual(await r.setVolumes([{ name: 'data', kind: 'fs' }, { name: 'disk', kind: 'block' }], 0), { added: [], removed: [] });
  });

  it('drops a removed volume\'s data and skips its records, also those sent after it went; the others stay recoverable', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, [{ name: 'data', kind: 'fs' }, { name: 'logs', kind: 'fs' }]);
    const w = new Workload(21, [{ name: 'data', kind: 'fs' }, { name: 'logs', kind: 'fs' }]);
    w.random(120);
    const c1 = w.checkpoint('both');
    assert.deepEqual(await r.setVolumes([{ name: 'data', kind: 'fs' }], w.journal.durableSeq), { added: [], removed: ['logs'] });
    assert.equal(await exists(join(dir, 'volumes/logs')), false);
    assert.equal(r.retiredKind('logs'), 'fs');
    // The source goes on capturing logs until it is reconfigured too; its checkpoints still list it.
    w.random(80);
    const c2 = w.checkpoint('logs still sent');
    w.model.delete('logs');
    w.random(20);
    const c3 = w.checkpoint('logs gone');
    await assertRecovers(r, w, c1, ['data']);
    await assertRecovers(r, w, c2, ['data']);
    await assert.rejects(materialise({ replica: r, journal: w.journal, checkpointSeq: c2, targets: new Map([['logs', fresh()]]) }), refused(/^targets\.logs: volume logs was removed from the stream \(its data is gone\)/));
    await r.apply(w.journal, c2);
    await assertRecovers(r, w, c3, ['data']);
    await r.apply(w.journal, c3);
    await assertRecovers(r, w, c3, ['data']);
    // A volume never known is still a bad record.
    w.journal.append({ kind: 'op', volume: 'never', op: { op: 'truncate', id: 1, size: 0 } });
    const c4 = w.checkpoint();
    await assert.rejects(r.apply(w.journal, c4), (err: unknown) => err instanceof ReplicaError && err.code === 'BAD_OP' && /the replica has no volume never/.test(err.message));
    const reopened = await Replica.open(dir, []);
    assert.equal(reopened.retiredKind('logs'), 'fs');
    assert.deepEqual((JSON.parse(await readFile(join(dir, 'replica.json'), 'utf8')) as { retired: unknown }).retired, [['logs', 'fs']]);
  });

  it('gives a volume added to a running stream a new life: records of the name before its attach are not its own', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, [{ name: 'data', kind: 'fs' }, { name: 'late', kind: 'fs' }]);
    const w = new Workload(33, [{ name: 'data', kind: 'fs' }, { name: 'late', kind: 'fs' }]);
    w.random(100);
    const old = w.checkpoint('late, first life');
    // Removed, then added again: the journal still holds the first life's records.
    await r.setVolumes([{ name: 'data', kind: 'fs' }], w.journal.durableSeq);
    const added = w.journal.durableSeq;
    await r.setVolumes([{ name: 'data', kind: 'fs' }, { name: 'late', kind: 'fs' }], added);
    assert.deepEqual(r.volume('late'), { kind: 'fs', since: added, attached: false });
    assert.equal(r.retiredKind('late'), undefined);
    w.model.delete('late');
    w.random(30);
    const before = w.checkpoint('late not attached');
    await assert.rejects(materialise({ replica: r, journal: w.journal, checkpointSeq: before, targets: new Map([['late', fresh()]]) }), refused(/volume late was added to the stream and the source has not synced it yet/));
    // The source asks for its manifest: it is empty (the first life is not this one's), and only
    // the records after the attach point are read for it.
    const attachedAt = w.journal.durableSeq;
    assert.equal(await r.attachVolume('late', attachedAt), true);
    assert.equal(await r.attachVolume('late', attachedAt + 5), false, 'once');
    const reads: number[] = [];
    const journal = w.journal;
    const spy = Object.create(journal) as MemoryJournal;
    spy.read = (from: number, to: number) => {
      reads.push(from);
      return journal.read(from, to);
    };
    assert.deepEqual(await headManifest(r, spy, 'late'), { kind: 'fs', entries: new Map() });
    assert.ok(reads.every((from) => from > attachedAt), `read from ${reads.join(', ')}; attached at ${attachedAt}`);
    w.model.set('late', emptyFs());
    w.random(150);
    const after = w.checkpoint('late, second life');
    await assertRecovers(r, w, after, ['data', 'late']);
    await assertRecovers(r, w, old, ['data']);
    await assert.rejects(materialise({ replica: r, journal: w.journal, checkpointSeq: old, targets: new Map([['late', fresh()]]) }), refused(/^targets\.late: checkpoint \d+ was taken before volume late joined the stream \(at seq \d+\)/));
    await r.apply(w.journal, after);
    await assertRecovers(r, w, after, ['data', 'late']);
    const reopened = await Replica.open(dir, []);
    assert.deepEqual(reopened.volume('late'), { kind: 'fs', since: attachedAt, attached: true });
    assert.ok((reopened.volumeBytes().get('late') ?? 0) > 0);
  });

  it('does not count a checkpoint that does not list a volume as holding it', async () => {
    const r = await Replica.open(fresh(), [{ name: 'data', kind: 'fs' }]);
    const w = new Workload(5, [{ name: 'data', kind: 'fs' }]);
    w.random(20);
    const c = w.journal.append({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [] } });
    await assert.rejects(materialise({ replica: r, journal: w.journal, checkpointSeq: c, targets: new Map([['data', fresh()]]) }), refused(/^targets\.data: checkpoint \d+ does not hold volume data: its first sync had not finished then/));
  });
});
