// Random workloads over two fs volumes and a block image, applied in random chunks: every
// checkpoint still recoverable is materialised, compared with the model byte for byte, and verified.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { Workload, diffWithModel, type VolumeModel } from './replica.test-support.ts';
import { verify } from './verify.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'logs', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-random-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const fresh = (): string => join(root, `t${n++}`);

async function checkAt(replica: Replica, w: Workload, seq: number): Promise<void> {
  const out = fresh();
  const targets = new Map(VOLUMES.map((v) => [v.name, join(out, v.name)]));
  await mkdir(out);
  await materialise({ replica, journal: w.journal, checkpointSeq: seq, targets });
  const snapshot = w.snapshots.get(seq);
  assert.ok(snapshot !== undefined);
  for (const [volume, target] of targets) {
    const diffs = await diffWithModel(target, snapshot.get(volume) as VolumeModel);
    assert.deepEqual(diffs, [], `checkpoint ${seq}, volume ${volume}`);
  }
  const result = await verify({ replica, journal: w.journal, checkpointSeq: seq, targets });
  assert.deepEqual(result.files, [], `verify of checkpoint ${seq}`);
  assert.equal(result.ok, true, `verify of checkpoint ${seq}: ${JSON.stringify(result.volumes)}`);
  await rm(out, { recursive: true, force: true });
}

describe('materialise after random workloads', () => {
  for (const seed of [1, 2, 3]) {
    it(`equals the model at every checkpoint, applied in random chunks (seed ${seed})`, async () => {
      const w = new Workload(seed, VOLUMES);
      const replica = await Replica.open(fresh(), VOLUMES);
      const checkpoints: number[] = [];
      for (let round = 0; round < 4; round++) {
        for (let c = 0; c < 3; c++) {
          w.random(25 + w.rng.int(40));
          checkpoints.push(w.checkpoint(`r${round}c${c}`));
        }
        const recoverable = checkpoints.filter((s) => s >= replica.appliedSeq);
        for (const seq of recoverable) if (seq === replica.appliedSeq || w.rng.int(2) === 0 || seq === recoverable.at(-1)) await checkAt(replica, w, seq);
        const pending = checkpoints.filter((s) => s > replica.appliedSeq);
        const through = w.rng.pick(pending);
        await replica.apply(w.journal, through);
        assert.equal(replica.appliedSeq, through);
        if (w.rng.int(2) === 0) await w.journal.dropThrough(through);
      }
      // The replica's own checkpoint stays recoverable even once the journal dropped it.
      await w.journal.dropThrough(replica.appliedSeq);
      await checkAt(replica, w, replica.appliedSeq);
      const last = checkpoints.at(-1) ?? 0;
      await checkAt(replica, w, last);
      // And a reopened replica gives the same.
      const reopened = await Replica.open(replica.dir, VOLUMES);
      assert.equal(reopened.appliedSeq, replica.appliedSeq);
      await checkAt(reopened, w, last);
    });
  }

});
