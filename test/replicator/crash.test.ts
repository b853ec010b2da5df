// The receiving VRA is SIGKILLed at random moments while records stream in, again and again.
// After every restart its journal opens (a torn tail cut, nothing acknowledged lost) and every
// checkpoint the source was told is durable materialises exactly as the source was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Pair, waitUntil, type SourceSnapshot } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { diffSnapshots } from './support/snapshot.ts';
import { blockWorkload, fsWorkload } from './support/workload.ts';

const KILLS = Number(process.env['ZCSP_CRASH_KILLS'] ?? 50);

describe('crash: SIGKILL the receiving VRA during ingest', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let pair: Pair;

  before(async () => {
    pair = await Pair.start({ checkpointIntervalMs: 500, imageBytes: 1024 * 1024 });
  });
  after(async () => {
    await pair.close();
  });

  it(`loses no acknowledged checkpoint over ${KILLS} kills (seed ${rnd.seed})`, async () => {
    const acknowledged = new Map<number, SourceSnapshot>();
    let cutTails = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      // A quiet moment: tag a checkpoint and remember the source as it is.
      await fsWorkload(pair.volume, rnd, 4, { maxFileBytes: 200_000 });
      const seq = await pair.checkpoint(`k${kill}`);
      acknowledged.set(seq, pair.snapshot());
      // Then a burst of changes, a pass shipping them, and the kill somewhere inside that ingest.
      const burst = Promise.all([fsWorkload(pair.volume, rnd, 8, { maxFileBytes: 400_000 }), blockWorkload(pair.image, rnd, 10)]);
      const shipping = pair.checkpoint(`burst-${kill}`).then(() => 'acknowledged', (err: unknown) => `refused: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, rnd.int(300)));
      await pair.target.kill();
      await burst;
      await pair.target.start();
      // The checkpoint asked for during the kill is acknowledged once the source has resent it.
      assert.equal(await shipping, 'acknowledged');
      if ((await readFile(pair.target.logFile, 'utf8')).includes('torn tail')) cutTails++;
    }
    // The source reconnects by itself and catches up.
    await waitUntil('the source to catch up', async () => (await pair.sourceStatus()).state === 'protecting', 120_000);
    const last = await pair.checkpoint('final');
    acknowledged.set(last, pair.snapshot());
    // Every acknowledged checkpoint still recoverable and exact (a sample plus the first and last,
    // to keep the run short: materialising is tested exhaustively in the pipeline test).
    const seqs = [...acknowledged.keys()];
    const sample = new Set([seqs[0] ?? 0, last, ...seqs.filter(() => rnd.chance(0.25))]);
    for (const seq of sample) {
      const expected = acknowledged.get(seq);
      assert.ok(expected !== undefined);
      const got = await pair.materialise(seq);
      assert.deepEqual(diffSnapshots(expected.files, got.files), [], `checkpoint ${seq} (seed ${rnd.seed})`);
      assert.deepEqual(got.disk, expected.disk, `checkpoint ${seq} image (seed ${rnd.seed})`);
    }
    // And all of them are still listed.
    const { checkpoints } = await pair.target.ok<{ checkpoints: { seq: number }[] }>('GET', '/v1/streams/vpg-web-0001/checkpoints');
    for (const seq of seqs) assert.ok(checkpoints.some((c) => c.seq === seq), `checkpoint ${seq} is listed after ${KILLS} kills`);
    process.stdout.write(`# crash test: ${KILLS} kills, ${acknowledged.size} acknowledged checkpoints, ${sample.size} materialised, ${cutTails} restarts cut a torn tail\n`);
  });
});
