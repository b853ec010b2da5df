// Reverse protection without a full copy, with two real VRA processes: the target's replica of a
// volume is seeded from a local copy on its node (the old source volume after a failover), and the
// source's first sync sends only what differs. Whatever the copy holds, the first checkpoint is
// the source exactly; a bad seed path is refused with the field named; a VRA killed mid-seed
// starts it again; nothing of a volume is recoverable before the source's first checkpoint of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pair, STREAM, waitUntil, writeRandomFile } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { changeBlocks, compressedBytes, copyTree, diverge, staleOnly, writeVolume, type Divergence } from './support/seed-data.ts';
import { diffSnapshots, snapshotImage } from './support/snapshot.ts';
import { VraProcess } from './support/vra-process.ts';

const MiB = 1024 * 1024;
const PATH = `/v1/streams/${STREAM}`;
const mib = (n: number): string => (n / MiB).toFixed(2);

interface SeedView { bytesDone: number; bytesTotal: number }
interface TargetVolume { name: string; bytes: number; attached: boolean; seeding?: SeedView; seeded?: boolean; seedError?: string }
interface Refusal { code: string; message: string }

async function targetVolume(pair: Pair, name: string): Promise<TargetVolume> {
  const volumes = (await pair.targetStatus())['volumes'] as TargetVolume[];
  const v = volumes.find((x) => x.name === name);
  if (v === undefined) throw new Error(`no volume ${name} in the target's status`);
  return v;
}

async function checkpoints(pair: Pair): Promise<{ seq: number; volumes: string[] }[]> {
  return (await pair.target.ok<{ checkpoints: { seq: number; volumes: string[] }[] }>('GET', `${PATH}/checkpoints`)).checkpoints;
}

/** The first checkpoint that holds `volume`. */
async function firstHolding(pair: Pair, volume: string): Promise<number> {
  return waitUntil(`a checkpoint holding ${volume}`, async () => (await checkpoints(pair)).find((c) => c.volumes.includes(volume))?.seq, 60_000);
}

/** Materialises `seq` (the pair's volumes), compares with the source now, and verifies. */
async function assertIsSource(pair: Pair, seq: number): Promise<void> {
  const expected = pair.snapshot();
  const got = await pair.materialise(seq);
  assert.deepEqual(diffSnapshots(expected.files, got.files), [], `checkpoint ${seq}: files differ`);
  assert.deepEqual(got.disk, expected.disk, `checkpoint ${seq}: the image differs`);
  const has = Object.fromEntries(Object.entries(got.paths).filter(([v]) => pair.options.volumes?.includes(v as 'files' | 'disk') ?? true));
  const verified = await pair.target.ok<{ ok: boolean }>('POST', `${PATH}/verify`, { checkpoint: seq, targets: has });
  assert.equal(verified.ok, true, JSON.stringify(verified));
}

/** The protected volume as `original` is now. */
function prepareFrom(original: string): (p: Pair) => Promise<void> {
  return async (p) => {
    await rm(p.volume, { recursive: true, force: true });
    copyTree(original, p.volume);
  };
}

describe('seeding a target from a local copy (two VRA processes)', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let work: string;
  /** The protected volume now, and the old copy of it the recovery node still has. */
  let now: string;
  let oldCopy: string;
  let volumeBytes: number;
  let divergence: Divergence;
  let seededWire = 0;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'zcsp-seed-'));
    now = join(work, 'now');
    oldCopy = join(work, 'old-copy');
    volumeBytes = await writeVolume(now, rnd, 64 * MiB);
    copyTree(now, oldCopy);
    await staleOnly(oldCopy);
    divergence = await diverge(now, rnd, 0.02);
  });
  after(async () => {
    if (process.env['ZCSP_KEEP_TEST_DIRS'] === undefined) await rm(work, { recursive: true, force: true });
  });

  it(`(1) a seeded fs volume: the first checkpoint is the source exactly, and little goes over the wire (seed ${rnd.seed})`, async (t) => {
    const pair = await Pair.start({
      volumes: ['files'],
      checkpointIntervalMs: 500,
      targetExtra: { seed: [{ volume: 'files', path: oldCopy }] },
      prepare: prepareFrom(now),
    });
    try {
      const seq = await firstHolding(pair, 'files');
      const sent = await pair.sourceStatus();
      seededWire = sent.wireBytes;
      await assertIsSource(pair, seq);
      const v = await targetVolume(pair, 'files');
      assert.equal(v.seeded, true, JSON.stringify(v));
      assert.equal(v.seeding, undefined);
      assert.equal(v.attached, true);
      const share = sent.wireBytes / volumeBytes;
      t.diagnostic(`seeded: ${mib(sent.wireBytes)} MiB on the wire (${(share * 100).toFixed(1)} %) for a ${mib(volumeBytes)} MiB volume `
        + `(${divergence.changedBlocks} blocks changed, ${mib(divergence.newFileBytes)} MiB in files new at their path); raw ${mib(sent.rawBytes)} MiB`);
      assert.ok(share < 0.15, `sent ${sent.wireBytes} bytes on the wire for a ${volumeBytes}-byte volume`);

      // The seed does nothing more once the volume is the replica's: a seed path gone, or no seed.
      const config = pair.targetConfig();
      const gone = await pair.target.control<{ changed: boolean }>('PUT', PATH, { ...config, seed: [{ volume: 'files', path: join(work, 'no-such-copy') }] });
      assert.equal(gone.status, 200, JSON.stringify(gone.body));
      const none = await pair.target.control('PUT', PATH, { ...config, seed: undefined });
      assert.equal(none.status, 200, JSON.stringify(none.body));
      assert.equal((await targetVolume(pair, 'files')).seeded, true);
      const later = await pair.checkpoint('after-reconfigure');
      await assertIsSource(pair, later);
      assert.equal((await pair.sourceStatus()).reconnects, sent.reconnects, 'the link stayed up');

      // A volume added to the running stream is seeded too (the controller's order: target, then source).
      const image = join(work, 'added.img');
      const oldImage = join(work, 'added-old.img');
      await writeRandomFile(oldImage, 8 * MiB);
      await copyFile(oldImage, image);
      await changeBlocks(image, [1, 2, 64]);
      const rawBefore = (await pair.sourceStatus()).rawBytes;
      await pair.target.ok('PUT', PATH, { ...config, volumes: [...config['volumes'] as object[], { name: 'added', kind: 'block' }], seed: [{ volume: 'added', path: oldImage }] });
      const sourceConfig = await pair.sourceConfig();
      await pair.source.ok('PUT', PATH, { ...sourceConfig, volumes: [...sourceConfig['volumes'] as object[], { name: 'added', kind: 'block', path: image }] });
      const held = await firstHolding(pair, 'added');
      const raw = (await pair.sourceStatus()).rawBytes - rawBefore;
      t.diagnostic(`a block volume added and seeded: ${raw} bytes raw for 3 changed blocks of 8 MiB`);
      assert.ok(raw < 3 * 65536 + 16 * 1024, `raw ${raw}`);
      const at = join(pair.restoreRoot, 'added');
      await mkdir(at, { recursive: true });
      await pair.target.ok('POST', `${PATH}/materialise`, { checkpoint: held, targets: { added: join(at, 'added.img'), files: join(at, 'files') } });
      assert.deepEqual(snapshotImage(join(at, 'added.img')), snapshotImage(image));
      assert.equal((await targetVolume(pair, 'added')).seeded, true);
    } finally {
      await pair.close();
    }
  });

  it('(2) the same volume without a seed sends at least its compressed size', async (t) => {
    const pair = await Pair.start({ volumes: ['files'], checkpointIntervalMs: 500, prepare: prepareFrom(now) });
    try {
      const seq = await firstHolding(pair, 'files');
      const { wireBytes } = await pair.sourceStatus();
      await assertIsSource(pair, seq);
      const { raw, compressed } = await compressedBytes(pair.volume);
      t.diagnostic(`on the wire for the first sync of a ${mib(raw)} MiB volume (${mib(compressed)} MiB compressed): `
        + `seeded ${mib(seededWire)} MiB, not seeded ${mib(wireBytes)} MiB (${(wireBytes / Math.max(1, seededWire)).toFixed(1)}×)`);
      assert.ok(wireBytes >= compressed, `not seeded: ${wireBytes} wire bytes, volume compressed ${compressed}`);
      assert.ok(seededWire > 0 && seededWire < wireBytes / 4);
    } finally {
      await pair.close();
    }
  });

  it('(3) a seed path that is missing or of the wrong kind is refused (400) naming the field; nothing is created', async () => {
    const dir = join(work, 'lone');
    const vra = new VraProcess({ name: 'lone', dataDir: join(dir, 'data'), clusterId: `seed-test-${process.pid}`, logDir: dir });
    await vra.start();
    try {
      const config = {
        role: 'target', vpg: { namespace: 'acme-prod', name: 'web' }, token: 'a-stream-token-0123456789',
        volumes: [{ name: 'files', kind: 'fs' }, { name: 'disk', kind: 'block' }],
      };
      const missing = join(work, 'no-such-copy');
      const put = (body: unknown): Promise<{ status: number; body: Refusal }> => vra.control<Refusal>('PUT', '/v1/streams/vpg-seeded', body);
      let res = await put({ ...config, seed: [{ volume: 'files', path: missing }] });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.message, `seed.0.path: ${missing} does not exist`);
      res = await put({ ...config, seed: [{ volume: 'files', path: oldCopy }, { volume: 'disk', path: oldCopy }] });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /^seed\.1\.path: .* is neither an image file nor a block device/);
      res = await put({ ...config, seed: [{ volume: 'disk', path: join(oldCopy, 'd0') }, { volume: 'files', path: join(oldCopy, 'current') }] });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /^seed\.0\.path: .* is neither an image file nor a block device .*; seed\.1\.path: .* is not a folder/);
      res = await put({ ...config, seed: [{ volume: 'logs', path: oldCopy }, { volume: 'files', path: 'relative/path' }] });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /seed\.1\.path: must be an absolute path/);
      res = await put({ ...config, seed: [{ volume: 'logs', path: oldCopy }] });
      assert.equal(res.status, 400);
      assert.equal(res.body.message, 'seed.0.volume: logs is not a volume of the stream');
      assert.equal((await vra.control('GET', '/v1/streams/vpg-seeded')).status, 404, 'nothing was created');
      // A good one is taken (201) and seeds in the background.
      const ok = await put({ ...config, seed: [{ volume: 'files', path: oldCopy }] });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    } finally {
      await vra.stop();
    }
  });

  describe('a seed in progress', () => {
    let pair: Pair;
    let smallNow: string;
    let smallCopy: string;
    const seedRate = 8 * MiB;

    before(async () => {
      smallNow = join(work, 'small-now');
      smallCopy = join(work, 'small-old-copy');
      await writeVolume(smallNow, rnd, 24 * MiB);
      copyTree(smallNow, smallCopy);
      await diverge(smallNow, rnd, 0.02);
      pair = await Pair.start({
        volumes: ['files', 'disk'],
        checkpointIntervalMs: 500,
        targetExtra: { seed: [{ volume: 'files', path: smallCopy }], seedBytesPerSecond: seedRate },
        prepare: prepareFrom(smallNow),
      });
    });
    after(async () => {
      await pair.close();
    });

    it('(6) exposes no checkpoint of the volume before the source\'s first one; the other volumes go on', async () => {
      const seeding = await waitUntil('the seed under way and the image checkpointed', async () => {
        const v = await targetVolume(pair, 'files');
        const cps = await checkpoints(pair);
        return v.seeding !== undefined && v.seeding.bytesDone > 0 && cps.length > 0 ? { v, cps } : undefined;
      });
      assert.ok(seeding.v.seeding !== undefined && seeding.v.seeding.bytesDone < seeding.v.seeding.bytesTotal, JSON.stringify(seeding.v));
      assert.equal(seeding.v.attached, false);
      for (const c of seeding.cps) assert.deepEqual(c.volumes, ['disk'], `checkpoint ${c.seq} holds only the image`);
      const at = join(pair.restoreRoot, 'while-seeding');
      await mkdir(at, { recursive: true });
      const refused = await pair.target.control<Refusal>('POST', `${PATH}/materialise`, { checkpoint: 'latest', targets: { files: join(at, 'files') } });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.message, /^targets\.files: volume files is being seeded from a local copy/);
      const source = await pair.sourceStatus() as unknown as { volumes: { name: string; state: string; problem?: string }[] };
      const files = source.volumes.find((v) => v.name === 'files');
      assert.equal(files?.state, 'initial-sync');
      assert.match(files.problem ?? '', /being seeded from a local copy on the recovery side/);
      const disk = await pair.target.control('POST', `${PATH}/materialise`, { checkpoint: 'latest', targets: { disk: join(at, 'disk.img') } });
      assert.equal(disk.status, 200, JSON.stringify(disk.body));
      assert.deepEqual(snapshotImage(join(at, 'disk.img')), snapshotImage(pair.image));
    });

    it('(4) a VRA killed mid-seed (SIGKILL) seeds again after its restart; the replica is then the source', async (t) => {
      const mid = await waitUntil('the seed half way', async () => {
        const s = (await targetVolume(pair, 'files')).seeding;
        return s !== undefined && s.bytesTotal > 0 && s.bytesDone > s.bytesTotal / 4 ? s : undefined;
      });
      await pair.target.kill();
      t.diagnostic(`killed at ${mib(mid.bytesDone)} of ${mib(mid.bytesTotal)} MiB`);
      await pair.target.start();
      const again = await targetVolume(pair, 'files');
      assert.ok(again.seeding !== undefined, `still seeding after the restart: ${JSON.stringify(again)}`);
      const seq = await firstHolding(pair, 'files');
      const all = await checkpoints(pair);
      for (const c of all.filter((x) => x.seq < seq)) assert.deepEqual(c.volumes, ['disk']);
      await assertIsSource(pair, seq);
      const v = await targetVolume(pair, 'files');
      assert.equal(v.seeded, true, JSON.stringify(v));
      const { wireBytes, rawBytes } = await pair.sourceStatus();
      t.diagnostic(`after the restart: ${mib(rawBytes)} MiB raw, ${mib(wireBytes)} MiB on the wire in all (the 2 MiB image included)`);
      assert.ok(rawBytes < 24 * MiB * 0.25, `raw ${rawBytes}`);
    });
  });

  it('(5) a seeded block volume: only the changed blocks are sent', async (t) => {
    const image = join(work, 'old-disk.img');
    const blocks = [5, 100, 101, 300, 511];
    const pair = await Pair.start({
      volumes: ['disk'],
      imageBytes: 32 * MiB,
      checkpointIntervalMs: 500,
      targetExtra: { seed: [{ volume: 'disk', path: image }] },
      prepare: async (p) => {
        await copyFile(p.image, image);
        await changeBlocks(p.image, blocks);
      },
    });
    try {
      const seq = await firstHolding(pair, 'disk');
      const { rawBytes, wireBytes } = await pair.sourceStatus();
      await assertIsSource(pair, seq);
      t.diagnostic(`32 MiB image, ${blocks.length} blocks changed (${mib(blocks.length * 65536)} MiB): ${rawBytes} bytes raw, ${wireBytes} on the wire`);
      assert.ok(rawBytes >= blocks.length * 65536 && rawBytes < blocks.length * 65536 + 16 * 1024, `raw ${rawBytes}`);
      assert.ok(wireBytes < blocks.length * 65536 + 16 * 1024, `wire ${wireBytes}`);
      assert.equal((await targetVolume(pair, 'disk')).seeded, true);
    } finally {
      await pair.close();
    }
  });
});
