import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ReplicaError } from './errors.ts';
import { materialise } from './materialise.ts';
import { lockedOutScenario, VOLUMES as LOCKED_VOLUMES } from './materialise-child.test-support.ts';
import { Replica } from './replica.ts';
import { MemoryJournal, Workload, diffWithModel, type VolumeModel } from './replica.test-support.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'logs', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-materialise-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const fresh = (): string => join(root, `t${n++}`);
const CHILD = join(import.meta.dirname, 'materialise-child.test-support.ts');
const NOBODY = 65534;

describe('materialise', () => {
  it('reports copy and replay progress', async () => {
    const w = new Workload(9, VOLUMES);
    const replica = await Replica.open(fresh(), VOLUMES);
    w.random(80);
    const c1 = w.checkpoint();
    await replica.apply(w.journal, c1);
    w.random(80);
    const c2 = w.checkpoint();
    const seen: string[] = [];
    const out = fresh();
    await materialise({
      replica,
      journal: w.journal,
      checkpointSeq: c2,
      targets: new Map(VOLUMES.map((v) => [v.name, join(out, v.name)])),
      onProgress: (p) => {
        assert.ok(p.doneBytes <= p.totalBytes, `${p.phase} ${p.doneBytes}/${p.totalBytes}`);
        seen.push(p.phase);
      },
    });
    assert.ok(seen.includes('copy'));
    assert.equal(seen.at(-1), 'replay');
  });

  it('materialises only the volumes asked for', async () => {
    const w = new Workload(4, VOLUMES);
    const replica = await Replica.open(fresh(), VOLUMES);
    w.random(60);
    const c = w.checkpoint();
    const out = fresh();
    const result = await materialise({ replica, journal: w.journal, checkpointSeq: c, targets: new Map([['logs', join(out, 'logs')]]) });
    assert.deepEqual(result.volumes.map((v) => v.volume), ['logs']);
    assert.deepEqual(await readdir(out), ['logs']);
    assert.deepEqual(await diffWithModel(join(out, 'logs'), w.snapshots.get(c)?.get('logs') as VolumeModel), []);
  });

  it('creates real symlinks with absolute targets and never follows them', async () => {
    const w = new Workload(5, [{ name: 'data', kind: 'fs' }]);
    const replica = await Replica.open(fresh(), [{ name: 'data', kind: 'fs' }]);
    const outside = fresh();
    await mkdir(outside);
    w.op('data', { op: 'symlink', path: 'escape', target: outside });
    w.op('data', { op: 'mkdir', path: 'd', mode: 0o755 });
    w.op('data', { op: 'create', path: 'd/f', id: 1, mode: 0o644 });
    w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('inside') });
    const c1 = w.checkpoint();
    await replica.apply(w.journal, c1);
    // After the replica point: move the folder away and put a symlink where it was.
    w.op('data', { op: 'rename', from: 'd', to: 'd2' });
    w.op('data', { op: 'symlink', path: 'd', target: outside });
    w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('INSIDE') });
    const c2 = w.checkpoint();
    const out = fresh();
    await materialise({ replica, journal: w.journal, checkpointSeq: c2, targets: new Map([['data', out]]) });
    assert.equal(await readlink(join(out, 'escape')), outside);
    assert.equal(await readlink(join(out, 'd')), outside);
    assert.equal(await readFile(join(out, 'd2/f'), 'utf8'), 'INSIDE');
    assert.deepEqual(await readdir(outside), []);
    // A record that would create through the symlink is refused, and nothing lands outside.
    w.journal.append({ kind: 'op', volume: 'data', op: { op: 'create', path: 'd/evil', id: 7, mode: 0o644 } });
    const c3 = w.journal.append({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [{ volume: 'data', digest: new Uint8Array(32) }] } });
    await assert.rejects(
      materialise({ replica, journal: w.journal, checkpointSeq: c3, targets: new Map([['data', fresh()]]) }),
      (err: unknown) => err instanceof ReplicaError && err.code === 'BAD_OP' && /seq \d+ volume data create path "d\/evil": parent "d" of "d\/evil" is a symlink, not a folder/.test(err.message),
    );
    assert.deepEqual(await readdir(outside), []);
  });

  it('stops at a replica object that is missing or cannot be copied, and harms nothing', async () => {
    const w = new Workload(8, [{ name: 'data', kind: 'fs' }]);
    const replica = await Replica.open(fresh(), [{ name: 'data', kind: 'fs' }]);
    w.op('data', { op: 'mkdir', path: 'd', mode: 0o755 });
    for (let id = 1; id <= 20; id++) {
      w.op('data', { op: 'create', path: `d/f${id}`, id, mode: 0o644 });
      w.op('data', { op: 'write', id, offset: 0, data: Buffer.alloc(5000, `file ${id} `) });
    }
    await replica.apply(w.journal, w.checkpoint());
    // Writes after the replica's point, to files early and late in the copy order.
    for (const id of [20, 1, 12, 5, 20]) w.op('data', { op: 'write', id, offset: 100 * id, data: Buffer.from(`after ${id}`) });
    const c2 = w.checkpoint();
    const object = replica.objectPath('data', 5);
    const saved = await readFile(object);
    const run = () => materialise({ replica, journal: w.journal, checkpointSeq: c2, targets: new Map([['data', fresh()]]) });

    await rm(object);
    await assert.rejects(run(), (err: unknown) => err instanceof ReplicaError && err.code === 'CORRUPT' && /volume data: object .* of "d\/f5" is missing/.test(err.message));
    // A folder where the object should be: the copy fails, and that failure ends the replay.
    await mkdir(object);
    await assert.rejects(run(), /EISDIR|illegal operation on a directory/);
    await rm(object, { recursive: true });
    await writeFile(object, saved);
    // The replica is unharmed and unlocked: the same checkpoint materialises in full.
    const out = fresh();
    await materialise({ replica, journal: w.journal, checkpointSeq: c2, targets: new Map([['data', out]]) });
    assert.deepEqual(await diffWithModel(out, w.snapshots.get(c2)?.get('data') as VolumeModel), []);
  });

  describe('refuses', () => {
    let replica: Replica;
    let journal: MemoryJournal;
    let c1 = 0;
    let c2 = 0;
    before(async () => {
      const w = new Workload(6, VOLUMES);
      replica = await Replica.open(fresh(), VOLUMES);
      journal = w.journal;
      w.random(30);
      c1 = w.checkpoint();
      w.random(30);
      c2 = w.checkpoint();
      await replica.apply(journal, c2);
      w.random(10);
      w.checkpoint();
    });
    const reject = async (seq: number, targets: Map<string, string>, code: string, message: RegExp): Promise<void> => {
      await assert.rejects(materialise({ replica, journal, checkpointSeq: seq, targets }), (err: unknown) => {
        assert.ok(err instanceof ReplicaError, String(err));
        assert.equal(err.code, code);
        assert.match(err.message, message);
        return true;
      });
    };
    it('a checkpoint older than the replica', () => reject(c1, new Map([['data', fresh()]]), 'CHECKPOINT', /checkpoint \d+ is older than the journal's history/));
    it('a seq that is not a checkpoint', () => reject(c2 + 1, new Map([['data', fresh()]]), 'CHECKPOINT', /seq \d+ is not a checkpoint/));
    it('a checkpoint newer than durable', () => reject(journal.durableSeq + 5, new Map([['data', fresh()]]), 'CHECKPOINT', /newer than the journal's durable seq/));
    it('an unknown volume', () => reject(c2, new Map([['nope', fresh()]]), 'VOLUME', /no volume nope/));
    it('a non-empty folder', async () => {
      const t = fresh();
      await mkdir(t);
      await writeFile(join(t, 'keep'), 'x');
      await reject(c2, new Map([['data', t]]), 'TARGET', /is not empty/);
      assert.equal(await readFile(join(t, 'keep'), 'utf8'), 'x');
    });
    it('a symlink as the folder', async () => {
      const real = fresh();
      await mkdir(real);
      const t = fresh();
      await symlink(real, t);
      await reject(c2, new Map([['data', t]]), 'TARGET', /is not a folder/);
      assert.deepEqual(await readdir(real), []);
    });
    it('an existing image file', async () => {
      const t = fresh();
      await writeFile(t, 'precious');
      await reject(c2, new Map([['disk', t]]), 'TARGET', /already exists/);
      assert.equal(await readFile(t, 'utf8'), 'precious');
    });
    it('but takes an empty existing folder', async () => {
      const t = fresh();
      await mkdir(t);
      await materialise({ replica, journal, checkpointSeq: c2, targets: new Map([['data', t]]) });
      assert.ok((await lstat(t)).isDirectory());
    });
  });

  it('fills, modes and syncs what shuts its owner out, run by a user other than root', { skip: process.getuid?.() !== 0 && 'only root can run the child as another user' }, async (t) => {
    // Root passes every permission check: only another user shows that a durable materialise
    // sets each mode after its last use of the entry (files, then folders deepest first).
    // Its own folder under the system's temporary one: the suite's is its owner's alone.
    const dir = await mkdtemp(join(tmpdir(), 'materialise-other-user-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await chown(dir, NOBODY, NOBODY);
    const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, CHILD, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const w = new Workload(1, LOCKED_VOLUMES);
    const { journalSeq } = lockedOutScenario(w);
    const model = w.snapshots.get(journalSeq)?.get('data');
    assert.ok(model !== undefined);
    for (const out of ['durable', 'scratch']) assert.deepEqual(await diffWithModel(join(dir, out), model), [], out);
    assert.equal((await lstat(join(dir, 'durable/ro/shut'))).mode & 0o7777, 0o000);
  });
});
