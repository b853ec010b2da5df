import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Op } from '../ops.ts';
import { ReplicaError } from './errors.ts';
import type { JournalReader } from './journal-reader.ts';
import { materialise } from './materialise.ts';
import { Replica, type ApplyStep } from './replica.ts';
import { MemoryJournal, Workload, diffWithModel, type VolumeModel } from './replica.test-support.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = (): string => join(root, `r${n++}`);

async function assertEqualsModel(replica: Replica, w: Workload, seq: number): Promise<void> {
  const out = fresh();
  const targets = new Map(replica.volumes().map((v) => [v.name, join(out, v.name)]));
  await mkdir(out);
  await materialise({ replica, journal: w.journal, checkpointSeq: seq, targets });
  for (const [volume, target] of targets) assert.deepEqual(await diffWithModel(target, w.snapshots.get(seq)?.get(volume) as VolumeModel), [], `volume ${volume} at ${seq}`);
  await rm(out, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('Replica', () => {
  it('starts empty, keeps its volumes and appliedSeq across open', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, VOLUMES);
    assert.equal(r.appliedSeq, 0);
    assert.equal(r.checkpoint, undefined);
    assert.deepEqual(r.volumes(), VOLUMES);
    assert.ok(await exists(join(dir, 'volumes/data/objects')));
    assert.ok(await exists(join(dir, 'volumes/disk/image')));
    const w = new Workload(11, VOLUMES);
    w.random(50);
    const c = w.checkpoint('first');
    await r.apply(w.journal, c);
    const again = await Replica.open(dir, []);
    assert.equal(again.appliedSeq, c);
    assert.equal(again.checkpoint?.tag, 'first');
    assert.deepEqual(again.volumes(), VOLUMES);
  });

  it('stores fs volumes as objects by id and a namespace, block volumes as one image', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, VOLUMES);
    const w = new Workload(1, VOLUMES);
    w.op('data', { op: 'mkdir', path: 'd', mode: 0o755 });
    w.op('data', { op: 'create', path: 'd/a', id: 42, mode: 0o600 });
    w.op('data', { op: 'write', id: 42, offset: 3, data: Buffer.from('abc') });
    w.op('disk', { op: 'write', id: 0, offset: 2, data: Buffer.from('zz') });
    const c = w.checkpoint();
    await r.apply(w.journal, c);
    assert.deepEqual(await readdir(join(dir, 'volumes/data/objects')), ['42']);
    assert.deepEqual(await readFile(join(dir, 'volumes/data/objects/42')), Buffer.from('\0\0\0abc'));
    assert.deepEqual(await readFile(join(dir, 'volumes/disk/image')), Buffer.from('\0\0zz'));
    const state = JSON.parse(await readFile(join(dir, 'replica.json'), 'utf8')) as { appliedSeq: number };
    assert.equal(state.appliedSeq, c);
  });

  it('removes objects nothing names after the commit', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, VOLUMES);
    const w = new Workload(1, VOLUMES);
    w.op('data', { op: 'create', path: 'a', id: 1, mode: 0o644 });
    w.op('data', { op: 'create', path: 'b', id: 2, mode: 0o644 });
    w.op('data', { op: 'create', path: 'tmp', id: 3, mode: 0o644 });
    w.op('data', { op: 'unlink', path: 'tmp' });
    await r.apply(w.journal, w.checkpoint());
    assert.deepEqual((await readdir(join(dir, 'volumes/data/objects'))).sort(), ['1', '2']);
    w.op('data', { op: 'rename', from: 'b', to: 'a' });
    await r.apply(w.journal, w.checkpoint());
    assert.deepEqual(await readdir(join(dir, 'volumes/data/objects')), ['2']);
    // Leftovers of a crash (an object of no id, a temp state file) go on open.
    await writeFile(join(dir, 'volumes/data/objects/99'), 'stale');
    await writeFile(join(dir, 'replica.json.tmp'), 'half');
    await mkdir(join(dir, 'volumes/gone'));
    await Replica.open(dir, VOLUMES);
    assert.deepEqual(await readdir(join(dir, 'volumes/data/objects')), ['2']);
    assert.ok(!(await exists(join(dir, 'replica.json.tmp'))));
    assert.deepEqual((await readdir(join(dir, 'volumes'))).sort(), ['data', 'disk']);
  });

  it('adds and removes volumes, dropping only the removed one', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, VOLUMES);
    const w = new Workload(3, VOLUMES);
    w.random(60);
    const c = w.checkpoint();
    await r.apply(w.journal, c);
    await r.addVolume('extra', 'fs');
    assert.deepEqual(r.volumes().map((v) => v.name), ['data', 'disk', 'extra']);
    await r.removeVolume('disk');
    assert.ok(!(await exists(join(dir, 'volumes/disk'))));
    const reopened = await Replica.open(dir, []);
    assert.deepEqual(reopened.volumes(), [{ name: 'data', kind: 'fs' }, { name: 'extra', kind: 'fs' }]);
    const out = fresh();
    await materialise({ replica: reopened, journal: w.journal, checkpointSeq: c, targets: new Map([['data', out]]) });
    assert.deepEqual(await diffWithModel(out, w.snapshots.get(c)?.get('data') as VolumeModel), []);
    await assert.rejects(r.removeVolume('disk'), (err: unknown) => err instanceof ReplicaError && err.code === 'VOLUME' && /volume disk is not in the replica/.test(err.message));
    await assert.rejects(r.addVolume('data', 'fs'), (err: unknown) => err instanceof ReplicaError && err.code === 'VOLUME' && /already/.test(err.message));
    await assert.rejects(r.addVolume('Bad_Name', 'fs'), (err: unknown) => err instanceof ReplicaError && /"Bad_Name" is not a DNS subdomain/.test(err.message));
    await assert.rejects(Replica.open(dir, [{ name: 'data', kind: 'block' }]), (err: unknown) => err instanceof ReplicaError && /volume data is a fs volume .*, not block/.test(err.message));
  });

  it('refuses a replica.json that is not its own', async () => {
    const dir = fresh();
    await Replica.open(dir, VOLUMES);
    await writeFile(join(dir, 'replica.json'), '{"format":2,"appliedSeq":-3,"volumes":[]}');
    await assert.rejects(Replica.open(dir, VOLUMES), (err: unknown) => err instanceof ReplicaError && err.code === 'CORRUPT' && /replica\.json: appliedSeq -3 is not a seq/.test(err.message));
    await writeFile(join(dir, 'replica.json'), '{"format":2,"appliedSeq":0,"checkpoint":null,"volumes":[{"name":"data","kind":"fs","namespace":{"entries":[["a/b","d",493]],"files":[]}}]}');
    await assert.rejects(Replica.open(dir, VOLUMES), (err: unknown) => err instanceof ReplicaError && /volume data: parent "a" of "a\/b" does not exist/.test(err.message));
    // Written by a VRA that hashed blocks with SHA-256: refused, saying why and what to do.
    await writeFile(join(dir, 'replica.json'), '{"format":1,"appliedSeq":0,"checkpoint":null,"volumes":[]}');
    await assert.rejects(Replica.open(dir, VOLUMES), (err: unknown) => err instanceof ReplicaError && err.code === 'CORRUPT' && /format 1 was written by a VRA that hashed blocks with SHA-256; this one uses xxh3-128 \(format 2\).*protect the VPG again/.test(err.message));
    await writeFile(join(dir, 'replica.json'), '{"format":3,"appliedSeq":0,"checkpoint":null,"volumes":[]}');
    await assert.rejects(Replica.open(dir, VOLUMES), (err: unknown) => err instanceof ReplicaError && /replica\.json: format 3 is not 2/.test(err.message));
    await writeFile(join(dir, 'replica.json'), 'not json');
    await assert.rejects(Replica.open(dir, VOLUMES), (err: unknown) => err instanceof ReplicaError && /not JSON/.test(err.message));
  });

  describe('refuses records it cannot apply, and stays where it was', () => {
    const cases: { name: string; volume?: string; ops: Op[]; message: RegExp }[] = [
      { name: 'a volume it does not have', volume: 'other', ops: [{ op: 'mkdir', path: 'a', mode: 0o755 }], message: /seq 1 volume other mkdir path "a": the replica has no volume other/ },
      { name: 'a write to an unknown id', ops: [{ op: 'write', id: 9, offset: 0, data: Buffer.from('x') }], message: /seq 1 volume data write id 9: id 9 is not a file of the volume/ },
      { name: 'a truncate of an unknown id', ops: [{ op: 'truncate', id: 9, size: 0 }], message: /seq 1 volume data truncate id 9: id 9 is not/ },
      { name: 'a digest of an unknown id', ops: [{ op: 'digest', id: 9, size: 0, digest: Buffer.alloc(32) }], message: /seq 1 volume data digest id 9/ },
      { name: 'a create over an existing path', ops: [{ op: 'create', path: 'a', id: 1, mode: 0o644 }, { op: 'create', path: 'a', id: 2, mode: 0o644 }], message: /seq 2 volume data create path "a": "a" already exists/ },
      { name: 'a mkdir over a symlink', ops: [{ op: 'symlink', path: 'a', target: '/etc' }, { op: 'mkdir', path: 'a', mode: 0o755 }], message: /seq 2 volume data mkdir path "a": "a" already exists/ },
      { name: 'a path through a symlink', ops: [{ op: 'symlink', path: 'a', target: '/etc' }, { op: 'create', path: 'a/passwd', id: 1, mode: 0o644 }], message: /seq 2 volume data create path "a\/passwd": parent "a" of "a\/passwd" is a symlink, not a folder/ },
      { name: 'a path under a file', ops: [{ op: 'create', path: 'f', id: 1, mode: 0o644 }, { op: 'mkdir', path: 'f/d', mode: 0o755 }], message: /parent "f" of "f\/d" is a file, not a folder/ },
      { name: 'a missing parent', ops: [{ op: 'mkdir', path: 'x/y', mode: 0o755 }], message: /parent "x" of "x\/y" does not exist/ },
      { name: 'a rename into a symlinked folder', ops: [{ op: 'create', path: 'f', id: 1, mode: 0o644 }, { op: 'symlink', path: 'l', target: '/' }, { op: 'rename', from: 'f', to: 'l/f' }], message: /seq 3 volume data rename from "f" to "l\/f": parent "l" of "l\/f" is a symlink/ },
      { name: 'a rename of a missing entry', ops: [{ op: 'rename', from: 'nope', to: 'b' }], message: /"nope" does not exist/ },
      { name: 'a folder moved into itself', ops: [{ op: 'mkdir', path: 'd', mode: 0o755 }, { op: 'rename', from: 'd', to: 'd/e' }], message: /cannot move folder "d" into itself/ },
      { name: 'a rename over a folder that is not empty', ops: [{ op: 'mkdir', path: 'd', mode: 0o755 }, { op: 'mkdir', path: 'd/e', mode: 0o755 }, { op: 'create', path: 'f', id: 1, mode: 0o644 }, { op: 'rename', from: 'f', to: 'd' }], message: /"d" is a folder that is not empty/ },
      { name: 'an unlink of a folder that is not empty', ops: [{ op: 'mkdir', path: 'd', mode: 0o755 }, { op: 'mkdir', path: 'd/e', mode: 0o755 }, { op: 'unlink', path: 'd' }], message: /seq 3 volume data unlink path "d": "d" is a folder that is not empty/ },
      { name: 'a chmod of a symlink', ops: [{ op: 'symlink', path: 'l', target: 'x' }, { op: 'chmod', path: 'l', mode: 0o600 }], message: /"l" is a symlink/ },
      { name: 'a namespace op on a block volume', volume: 'disk', ops: [{ op: 'mkdir', path: 'a', mode: 0o755 }], message: /seq 1 volume disk mkdir path "a": a block volume takes only write, truncate and digest/ },
      { name: 'a block write to an id other than 0', volume: 'disk', ops: [{ op: 'write', id: 3, offset: 0, data: Buffer.from('x') }], message: /a block volume has only id 0/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const dir = fresh();
        const r = await Replica.open(dir, VOLUMES);
        const journal = new MemoryJournal();
        for (const op of c.ops) journal.append({ kind: 'op', volume: c.volume ?? 'data', op });
        const cp = journal.append({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [] } });
        const before = await readFile(join(dir, 'replica.json'), 'utf8');
        await assert.rejects(r.apply(journal, cp), (err: unknown) => {
          assert.ok(err instanceof ReplicaError, String(err));
          assert.equal(err.code, 'BAD_OP');
          assert.match(err.message, c.message);
          return true;
        });
        assert.equal(r.appliedSeq, 0);
        assert.equal(await readFile(join(dir, 'replica.json'), 'utf8'), before);
        assert.equal((await Replica.open(dir, VOLUMES)).appliedSeq, 0);
      });
    }
  });

  it('checks a whole batch before it writes any object', async () => {
    const dir = fresh();
    const r = await Replica.open(dir, VOLUMES);
    const w = new Workload(21, VOLUMES);
    w.op('data', { op: 'create', path: 'f', id: 1, mode: 0o644 });
    w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('before') });
    w.op('disk', { op: 'write', id: 0, offset: 0, data: Buffer.from('image') });
    const c1 = w.checkpoint();
    await r.apply(w.journal, c1);
    w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('AFTER!') });
    w.op('disk', { op: 'truncate', id: 0, size: 1 });
    w.journal.append({ kind: 'op', volume: 'data', op: { op: 'write', id: 77, offset: 0, data: Buffer.from('x') } });
    const bad = w.journal.append({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [] } });
    await assert.rejects(r.apply(w.journal, bad), /id 77 is not a file of the volume/);
    assert.equal(r.pendingSeq, undefined);
    assert.equal(await readFile(join(dir, 'volumes/data/objects/1'), 'utf8'), 'before');
    assert.equal(await readFile(join(dir, 'volumes/disk/image'), 'utf8'), 'image');
    await assertEqualsModel(r, w, c1);
  });

  describe('refuses a bad checkpoint or journal', () => {
    const setup = async (): Promise<{ r: Replica; w: Workload; c1: number; c2: number }> => {
      const r = await Replica.open(fresh(), VOLUMES);
      const w = new Workload(5, VOLUMES);
      w.random(20);
      const c1 = w.checkpoint();
      w.random(20);
      const c2 = w.checkpoint();
      return { r, w, c1, c2 };
    };
    const rejects = async (p: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
      await assert.rejects(p, (err: unknown) => err instanceof ReplicaError && err.code === code && message.test(err.message));
    };
    it('not a checkpoint', async () => {
      const { r, w, c1 } = await setup();
      await rejects(r.apply(w.journal, c1 - 1), 'CHECKPOINT', /seq \d+ is not a checkpoint of the journal/);
    });
    it('newer than durable', async () => {
      const { r, w } = await setup();
      await rejects(r.apply(w.journal, w.journal.durableSeq + 1), 'CHECKPOINT', /newer than the journal's durable seq/);
    });
    it('older than the replica (the same one is a no-op)', async () => {
      const { r, w, c1, c2 } = await setup();
      await r.apply(w.journal, c2);
      await r.apply(w.journal, c2);
      await rejects(r.apply(w.journal, c1), 'CHECKPOINT', /checkpoint \d+ is older than the replica \(applied through \d+\)/);
    });
    it('a gap in the journal', async () => {
      const { r, w, c1 } = await setup();
      w.journal.removeRecord(5);
      await rejects(r.apply(w.journal, c1), 'JOURNAL', /journal gave seq 6 where seq 5 was next/);
      assert.equal(r.appliedSeq, 0);
    });
    it('a journal that ends before the checkpoint', async () => {
      const { r, w, c2 } = await setup();
      const j = w.journal;
      const short: JournalReader = {
        durableSeq: j.durableSeq,
        checkpoints: () => j.checkpoints(),
        read: (from, to) => j.read(from, to - 3),
        bytesBetween: (from, to) => j.bytesBetween(from, to),
        dropThrough: (seq) => j.dropThrough(seq),
      };
      await rejects(r.apply(short, c2), 'JOURNAL', new RegExp(`journal ended at seq ${c2 - 3}, before seq ${c2}`));
      assert.equal(r.appliedSeq, 0);
    });
    it('a record that does not decode', async () => {
      const r = await Replica.open(fresh(), VOLUMES);
      const journal = new MemoryJournal();
      journal.appendBytes(Buffer.from([1, 0, 4, 0x64, 0x61, 0x74, 0x61]));
      const cp = journal.append({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [] } });
      await rejects(r.apply(journal, cp), 'JOURNAL', /seq 1: record ends inside mkdir mode/);
    });
  });

  describe('a crash in the middle of apply, then reopen and apply again, gives the model', () => {
    const steps: ApplyStep[] = ['op', 'op', 'op', 'synced', 'committed'];
    for (const [i, step] of steps.entries()) {
      it(`crash at ${step} #${i}`, async () => {
        const dir = fresh();
        const w = new Workload(100 + i, VOLUMES);
        const r = await Replica.open(dir, VOLUMES);
        w.random(60);
        const c1 = w.checkpoint();
        await r.apply(w.journal, c1);
        w.random(120);
        const c2 = w.checkpoint();
        w.random(60);
        const c3 = w.checkpoint();
        const at = step === 'op' ? 1 + w.rng.int(150) : 0;
        await assert.rejects(
          r.apply(w.journal, c3, {
            onStep: (s, count) => {
              if (s === step && (step !== 'op' || count === at)) throw new Error('crash');
            },
          }),
          /crash/,
        );
        const reopened = await Replica.open(dir, VOLUMES);
        assert.equal(reopened.appliedSeq, step === 'committed' ? c3 : c1);
        assert.equal(reopened.pendingSeq, step === 'committed' ? undefined : c3);
        if (i === 0) {
          // Asked for less than the interrupted apply: it still finishes that one.
          await reopened.apply(w.journal, c2);
        } else if (i === 1) {
          // A reader finishes it first: the objects are ahead of the old checkpoint.
          await assert.rejects(
            materialise({ replica: reopened, journal: w.journal, checkpointSeq: c1, targets: new Map([['data', fresh()]]) }),
            (err: unknown) => err instanceof ReplicaError && /older than the journal's history/.test(err.message),
          );
        } else if (i !== 2) await reopened.apply(w.journal, c3);
        // i = 2: materialise alone finishes it.
        await assertEqualsModel(reopened, w, c3);
        assert.equal(reopened.appliedSeq, c3);
        assert.equal(reopened.pendingSeq, undefined);
        assert.equal((await Replica.open(dir, VOLUMES)).pendingSeq, undefined);
      });
    }
  });

  it('apply and materialise take turns on the lock', async () => {
    const dir = fresh();
    const w = new Workload(8, VOLUMES);
    const r = await Replica.open(dir, VOLUMES);
    w.random(100);
    const c1 = w.checkpoint();
    w.random(100);
    const c2 = w.checkpoint();
    const out = fresh();
    const order: string[] = [];
    const m = materialise({ replica: r, journal: w.journal, checkpointSeq: c1, targets: new Map(VOLUMES.map((v) => [v.name, join(out, v.name)])) }).then(() => order.push('materialise'));
    const a = r.apply(w.journal, c2).then(() => order.push('apply'));
    await Promise.all([m, a]);
    assert.deepEqual(order, ['materialise', 'apply']);
    for (const v of VOLUMES) assert.deepEqual(await diffWithModel(join(out, v.name), w.snapshots.get(c1)?.get(v.name) as VolumeModel), []);
  });
});
