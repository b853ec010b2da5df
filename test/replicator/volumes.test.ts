// Volumes added to and removed from a running stream, with two real VRA processes: the VPG
// controller reconfigures both ends when the tenant adds or removes a PVC. An added volume gets an
// initial sync of its own while the others keep their journal, their checkpoints and their
// protection; a removed one's data goes on the recovery side and only there; either order of the
// two PUTs works; bad changes are refused with the field named and change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pair, STREAM, waitUntil, writeRandomFile } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { diffSnapshots, snapshotImage, snapshotTree, type Snapshot } from './support/snapshot.ts';
import { blockWorkload, fsWorkload } from './support/workload.ts';

interface Vol { kind: 'fs' | 'block'; path: string }
type Content = { fs: Snapshot } | { block: { size: number; sha: string } };
interface VolumeView { name: string; state: string; percent?: number; problem?: string }
interface SourceView { state: string; connected: boolean; lastError?: string; rawBytes: number; reconnects: number; volumes: VolumeView[] }
interface TargetView { checkpoints: number; volumes: { name: string; bytes: number; attached: boolean }[] }
interface Refusal { code: string; message: string }

const PATH = `/v1/streams/${STREAM}`;

/** The pair's stream with a volume set the test changes as the tenant would. */
class Rig {
  readonly pair: Pair;
  readonly vols = new Map<string, Vol>();
  #restores = 0;

  constructor(pair: Pair) {
    this.pair = pair;
    this.vols.set('files', { kind: 'fs', path: pair.volume });
  }

  async addFs(name: string, rnd: Random, ops: number): Promise<void> {
    const path = join(this.pair.dir, 'protected', name);
    await mkdir(path, { recursive: true });
    await writeRandomFile(join(path, 'seed.bin'), 1024 * 1024);
    await fsWorkload(path, rnd, ops);
    this.vols.set(name, { kind: 'fs', path });
  }

  async addBlock(name: string, bytes: number): Promise<void> {
    const path = join(this.pair.dir, 'protected', `${name}.img`);
    await writeRandomFile(path, bytes);
    this.vols.set(name, { kind: 'block', path });
  }

  #vol(name: string): Vol {
    const v = this.vols.get(name);
    if (v === undefined) throw new Error(`no volume ${name} in the test`);
    return v;
  }

  targetConfig(names: readonly string[]): Record<string, unknown> {
    return { ...this.pair.targetConfig(), volumes: names.map((name) => ({ name, kind: this.#vol(name).kind })) };
  }

  async sourceConfig(names: readonly string[]): Promise<Record<string, unknown>> {
    return { ...(await this.pair.sourceConfig()), volumes: names.map((name) => ({ name, ...this.#vol(name) })) };
  }

  async putTarget(names: readonly string[]): Promise<{ changed: boolean }> {
    return this.pair.target.ok('PUT', PATH, this.targetConfig(names));
  }

  async putSource(names: readonly string[]): Promise<{ changed: boolean; status: SourceView }> {
    return this.pair.source.ok('PUT', PATH, await this.sourceConfig(names));
  }

  snapshot(names: readonly string[]): Map<string, Content> {
    return new Map(names.map((name) => {
      const v = this.#vol(name);
      return [name, v.kind === 'fs' ? { fs: snapshotTree(v.path) } : { block: snapshotImage(v.path) }];
    }));
  }

  /** Materialises the volumes of a checkpoint into fresh places; the control API's answer, as is. */
  async materialise(seq: number, names: readonly string[]): Promise<{ status: number; body: unknown; paths: Map<string, string> }> {
    const at = join(this.pair.restoreRoot, `v${++this.#restores}`);
    const paths = new Map(names.map((name) => [name, join(at, this.#vol(name).kind === 'fs' ? name : `${name}.img`)]));
    await mkdir(at, { recursive: true });
    const res = await this.pair.target.control('POST', `${PATH}/materialise`, { checkpoint: seq, targets: Object.fromEntries(paths) });
    return { ...res, paths };
  }

  /** Materialising `seq` gives each volume exactly as it was snapshotted, and verify agrees. */
  async assertRecovers(seq: number, expected: ReadonlyMap<string, Content>): Promise<void> {
    const names = [...expected.keys()];
    const res = await this.materialise(seq, names);
    assert.equal(res.status, 200, `materialise ${seq}: ${JSON.stringify(res.body)}`);
    for (const [name, want] of expected) {
      const path = res.paths.get(name) ?? '';
      if ('fs' in want) assert.deepEqual(diffSnapshots(want.fs, snapshotTree(path)), [], `checkpoint ${seq}, volume ${name}`);
      else assert.deepEqual(snapshotImage(path), want.block, `checkpoint ${seq}, volume ${name}`);
    }
    const verified = await this.pair.target.ok<{ ok: boolean }>('POST', `${PATH}/verify`, { checkpoint: seq, targets: Object.fromEntries(res.paths) });
    assert.equal(verified.ok, true, JSON.stringify(verified));
  }

  async source(): Promise<SourceView> {
    return (await this.pair.source.ok<{ status: SourceView }>('GET', PATH)).status;
  }

  async target(): Promise<TargetView> {
    return (await this.pair.target.ok<{ status: TargetView }>('GET', PATH)).status;
  }

  /** Until every volume listed (and only those) is protecting. */
  async protecting(names: readonly string[]): Promise<SourceView> {
    return waitUntil(`${names.join(', ')} protecting`, async () => {
      const s = await this.source();
      const ok = s.volumes.length === names.length && s.volumes.every((v) => names.includes(v.name) && v.state === 'protecting') && s.state === 'protecting';
      return ok ? s : undefined;
    }, 60_000);
  }

  async checkpointSeqs(): Promise<number[]> {
    return [...(await this.checkpoints()).keys()];
  }

  /** Recoverable checkpoints and the volumes each can give back. */
  async checkpoints(): Promise<Map<number, string[]>> {
    const { checkpoints } = await this.pair.target.ok<{ checkpoints: { seq: number; volumes: string[] }[] }>('GET', `${PATH}/checkpoints`);
    return new Map(checkpoints.map((c) => [c.seq, c.volumes]));
  }

  bytes(names: readonly string[]): number {
    let n = 0;
    for (const c of this.snapshot(names).values()) {
      if ('block' in c) n += c.block.size;
      else for (const e of c.fs.values()) n += e.type === 'file' ? e.size : 0;
    }
    return n;
  }
}

function volumeState(s: SourceView, name: string): VolumeView | undefined {
  return s.volumes.find((v) => v.name === name);
}

describe('volumes added to and removed from a running stream (two VRA processes)', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let pair: Pair;
  let rig: Rig;
  /** Checkpoints taken along the way, with the volumes they hold as they were. */
  const taken = new Map<number, Map<string, Content>>();
  let afterAdd = 0;

  before(async () => {
    pair = await Pair.start({
      volumes: ['files'],
      checkpointIntervalMs: 500,
      // Slow enough that a join is seen while it runs.
      sourceExtra: { bandwidthBytesPerSecond: 8 * 1024 * 1024 },
      prepare: async (p) => {
        await writeRandomFile(join(p.volume, 'big.bin'), 6 * 1024 * 1024);
        await fsWorkload(p.volume, rnd, 40);
      },
    });
    rig = new Rig(pair);
    await rig.protecting(['files']);
  });
  after(async () => {
    await pair.close();
  });

  it(`adds an fs and a block volume: an initial sync of them alone, the others keep everything (seed ${rnd.seed})`, async (t) => {
    await fsWorkload(pair.volume, rnd, 15);
    const before = await pair.checkpoint('before-add');
    taken.set(before, rig.snapshot(['files']));
    const listedBefore = await rig.checkpointSeqs();
    const sentBefore = (await rig.source()).rawBytes;
    const reconnectsBefore = (await rig.source()).reconnects;
    await rig.addFs('logs', rnd, 20);
    await rig.addBlock('vm-disk', 32 * 1024 * 1024);
    const all = ['files', 'logs', 'vm-disk'];

    // The controller's order: the target first, then the source.
    assert.equal((await rig.putTarget(all)).changed, true);
    const put = await rig.putSource(all);
    assert.equal(put.changed, true);
    assert.equal(volumeState(put.status, 'files')?.state, 'protecting', JSON.stringify(put.status.volumes));
    assert.equal(volumeState(put.status, 'logs')?.state, 'initial-sync');
    assert.equal(volumeState(put.status, 'vm-disk')?.state, 'initial-sync');
    assert.equal(put.status.state, 'initial-sync', 'the stream is as protected as its least protected volume');
    assert.equal(typeof volumeState(put.status, 'logs')?.percent, 'number');
    assert.equal(volumeState(put.status, 'files')?.percent, undefined, 'no percent once protected');

    // While the new volumes sync, the others keep being checkpointed: a checkpoint now holds them
    // (not the volume still joining) and does not wait for the join.
    const joining = await waitUntil('vm-disk part synced', async () => {
      const s = await rig.source();
      const p = volumeState(s, 'vm-disk')?.percent ?? 0;
      return p > 0 && p < 60 ? s : undefined;
    });
    assert.equal(volumeState(joining, 'files')?.state, 'protecting');
    assert.equal(volumeState(joining, 'vm-disk')?.state, 'initial-sync');
    const asked = Date.now();
    const during = await pair.checkpoint('during-join');
    const waited = Date.now() - asked;
    assert.equal(volumeState(await rig.source(), 'vm-disk')?.state, 'initial-sync', `the checkpoint came after ${waited} ms, before the join ended`);
    taken.set(during, rig.snapshot(['files']));
    await rig.assertRecovers(during, taken.get(during) ?? new Map());
    const notYet = await rig.materialise(during, ['vm-disk']);
    assert.equal(notYet.status, 400);
    assert.match((notYet.body as Refusal).message, /^targets\.vm-disk: checkpoint \d+ does not hold volume vm-disk: its first sync had not finished then/);

    const done = await rig.protecting(all);
    // The same sender all along (no restart): its counters go on, and what it sent is the new volumes.
    const sent = done.rawBytes - sentBefore;
    const added = rig.bytes(['logs', 'vm-disk']);
    const existing = rig.bytes(['files']);
    assert.equal(done.reconnects, reconnectsBefore, 'the link stayed up');
    // All-zero blocks (files the workload extended) are not sent, hence a little under.
    assert.ok(sent >= added * 0.9 && sent < added + existing / 4, `sent ${sent} raw bytes: new volumes ${added}, existing ${existing}`);
    // No checkpoint lost, and every one before the add still recovers its volume.
    const listedAfter = await rig.checkpointSeqs();
    for (const seq of listedBefore) assert.ok(listedAfter.includes(seq), `checkpoint ${seq} still listed`);
    await rig.assertRecovers(before, taken.get(before) ?? new Map());

    await fsWorkload(pair.volume, rnd, 10);
    await fsWorkload(join(pair.dir, 'protected', 'logs'), rnd, 10);
    await blockWorkload(join(pair.dir, 'protected', 'vm-disk.img'), rnd, 10);
    afterAdd = await pair.checkpoint('after-add');
    taken.set(afterAdd, rig.snapshot(all));
    await rig.assertRecovers(afterAdd, rig.snapshot(all));

    // A checkpoint from before a volume joined does not pretend to hold it.
    const old = await rig.materialise(before, ['logs']);
    assert.equal(old.status, 400);
    assert.match((old.body as Refusal).message, /^targets\.logs: checkpoint \d+ was taken before volume logs joined the stream/);
    const target = await rig.target();
    assert.deepEqual(target.volumes.map((v) => [v.name, v.attached]), [['files', true], ['logs', true], ['vm-disk', true]]);
    const listed = await rig.checkpoints();
    assert.deepEqual(listed.get(before), ['files']);
    // logs is small: it may have joined before that checkpoint; vm-disk had not.
    assert.ok(listed.get(during)?.includes('files') === true && !listed.get(during)?.includes('vm-disk'), JSON.stringify(listed.get(during)));
    assert.deepEqual(listed.get(afterAdd), all);
    t.diagnostic(`added ${added} bytes in 2 volumes: ${sent} raw bytes sent (files: ${existing} bytes, not resent); a checkpoint during the join took ${waited} ms`);
  });

  it('takes a volume the source knows before the target: it waits, says why, and the others go on', async () => {
    await rig.addFs('cache', rnd, 15);
    const known = ['files', 'logs', 'vm-disk'];
    const all = [...known, 'cache'];
    assert.equal((await rig.putSource(all)).changed, true);
    const waiting = await waitUntil('cache waiting for the target', async () => {
      const s = await rig.source();
      return volumeState(s, 'cache')?.problem !== undefined ? s : undefined;
    });
    assert.match(volumeState(waiting, 'cache')?.problem ?? '', /the recovery side cannot take volume cache yet \(configure it there first\); retrying: .*has no volume cache/);
    assert.equal(volumeState(waiting, 'cache')?.state, 'initial-sync');
    assert.match(waiting.lastError ?? '', /volume cache/);
    for (const name of known) assert.equal(volumeState(waiting, name)?.state, 'protecting');
    // Checkpoints go on for the volumes the target has.
    await fsWorkload(pair.volume, rnd, 5);
    const meanwhile = await pair.checkpoint('cache-waiting');
    taken.set(meanwhile, rig.snapshot(known));
    await rig.assertRecovers(meanwhile, rig.snapshot(known));
    const missing = await rig.materialise(meanwhile, ['cache']);
    assert.equal(missing.status, 400);
    assert.match((missing.body as Refusal).message, /^targets\.cache: stream .* has no volume cache/);

    assert.equal((await rig.putTarget(all)).changed, true);
    await rig.protecting(all);
    const seq = await pair.checkpoint('cache-in');
    taken.set(seq, rig.snapshot(all));
    await rig.assertRecovers(seq, rig.snapshot(all));
  });

  it('removes a volume on the target first: only its data goes, the source\'s records of it are skipped until it stops', async () => {
    const keep = ['files', 'vm-disk', 'cache'];
    const replicaLogs = join(pair.target.options.dataDir, 'streams', STREAM, 'replica', 'volumes', 'logs');
    assert.ok(existsSync(replicaLogs));
    const reconnects = (await rig.source()).reconnects;
    assert.equal((await rig.putTarget(keep)).changed, true);
    assert.equal(existsSync(replicaLogs), false, 'the removed volume\'s replica files are gone');
    // The source still captures logs: its changes are taken and skipped, nothing breaks.
    await fsWorkload(join(pair.dir, 'protected', 'logs'), rnd, 15);
    await fsWorkload(pair.volume, rnd, 5);
    const between = await pair.checkpoint('logs-removed-on-target');
    await rig.assertRecovers(between, rig.snapshot(keep));
    assert.equal((await rig.source()).reconnects, reconnects, 'no link error');
    const gone = await rig.materialise(between, ['logs']);
    assert.equal(gone.status, 400);
    assert.match((gone.body as Refusal).message, /^targets\.logs: .*has no volume logs \(it was removed, and its data with it\)/);

    assert.equal((await rig.putSource(keep)).changed, true);
    const s = await rig.protecting(keep);
    assert.deepEqual(s.volumes.map((v) => v.name), keep);
    await fsWorkload(pair.volume, rnd, 5);
    const seq = await pair.checkpoint('logs-removed');
    await rig.assertRecovers(seq, rig.snapshot(keep));
    assert.deepEqual((await rig.checkpoints()).get(afterAdd), ['files', 'vm-disk', 'cache'].filter((n) => taken.get(afterAdd)?.has(n)));
    // Checkpoints from before the removal still recover the volumes that stay.
    for (const [cp, content] of taken) {
      const kept = new Map([...content].filter(([name]) => keep.includes(name)));
      await rig.assertRecovers(cp, kept);
    }
    assert.deepEqual((await rig.target()).volumes.map((v) => v.name), keep);
  });

  it('removes a volume on the source first, then on the target', async () => {
    const keep = ['files', 'vm-disk'];
    assert.equal((await rig.putSource(keep)).changed, true);
    await rig.protecting(keep);
    await fsWorkload(join(pair.dir, 'protected', 'cache'), rnd, 5);
    const seq = await pair.checkpoint('cache-removed-on-source');
    await rig.assertRecovers(seq, rig.snapshot(keep));
    assert.equal((await rig.putTarget(keep)).changed, true);
    assert.deepEqual((await rig.target()).volumes.map((v) => v.name), keep);
    await rig.assertRecovers(await pair.checkpoint('cache-removed'), rig.snapshot(keep));
  });

  it('refuses a kind change and a rename onto a name in use, naming the field; nothing changes', async () => {
    const keep = ['files', 'vm-disk'];
    const sourceBefore = await pair.source.ok<{ config: unknown }>('GET', PATH);
    const targetBefore = await pair.target.ok<{ config: unknown }>('GET', PATH);
    const sourceAsBlock = await rig.sourceConfig(keep);
    sourceAsBlock['volumes'] = [{ name: 'files', kind: 'block', path: pair.volume }, { name: 'vm-disk', kind: 'block', path: join(pair.dir, 'protected', 'vm-disk.img') }];
    const kind = await pair.source.control<Refusal>('PUT', PATH, sourceAsBlock);
    assert.equal(kind.status, 400);
    assert.match(kind.body.message, /^volumes\.0\.kind: volume files is a fs volume of this stream and cannot become block; remove it from the stream first/);
    const targetAsBlock = rig.targetConfig(keep);
    targetAsBlock['volumes'] = [{ name: 'files', kind: 'block' }, { name: 'vm-disk', kind: 'block' }];
    const tkind = await pair.target.control<Refusal>('PUT', PATH, targetAsBlock);
    assert.equal(tkind.status, 400);
    assert.match(tkind.body.message, /^volumes\.0\.kind: volume files is a fs volume/);
    // vm-disk renamed to files, which exists.
    const renamed = await rig.sourceConfig(keep);
    renamed['volumes'] = [{ name: 'files', kind: 'fs', path: pair.volume }, { name: 'files', kind: 'block', path: join(pair.dir, 'protected', 'vm-disk.img') }];
    const rename = await pair.source.control<Refusal>('PUT', PATH, renamed);
    assert.equal(rename.status, 400);
    assert.match(rename.body.message, /^volumes\.1\.name: files is already the name of volumes\.0/);
    const trenamed = rig.targetConfig(keep);
    trenamed['volumes'] = [{ name: 'files', kind: 'fs' }, { name: 'files', kind: 'block' }];
    assert.match((await pair.target.control<Refusal>('PUT', PATH, trenamed)).body.message, /^volumes\.1\.name: files is already the name of volumes\.0/);
    // Nothing changed: the same configurations, still protecting, still recovering.
    assert.deepEqual((await pair.source.ok<{ config: unknown }>('GET', PATH)).config, sourceBefore.config);
    assert.deepEqual((await pair.target.ok<{ config: unknown }>('GET', PATH)).config, targetBefore.config);
    await rig.protecting(keep);
    await fsWorkload(pair.volume, rnd, 5);
    const seq = await pair.checkpoint('after-refusals');
    await rig.assertRecovers(seq, rig.snapshot(keep));
    // The same configuration again changes nothing.
    assert.equal((await rig.putSource(keep)).changed, false);
    assert.equal((await rig.putTarget(keep)).changed, false);
  });

  it('a volume removed and added again on the target while the source kept it: the source starts over, nothing is corrupted', async () => {
    const all = ['files', 'vm-disk'];
    assert.equal((await rig.putTarget(['files'])).changed, true);
    assert.equal((await rig.putTarget(all)).changed, true);
    assert.deepEqual((await rig.target()).volumes.map((v) => [v.name, v.attached]), [['files', true], ['vm-disk', false]]);
    await blockWorkload(join(pair.dir, 'protected', 'vm-disk.img'), rnd, 5);
    // Its next records (or checkpoint) of vm-disk are refused; it drops what was not acknowledged,
    // agrees again (vm-disk: an initial sync, files: a delta sync) and goes on.
    await waitUntil('the source told to start over', async () => /VolumeReset/.test(await readFile(pair.source.logFile, 'utf8')));
    await rig.protecting(all);
    assert.deepEqual((await rig.target()).volumes.map((v) => [v.name, v.attached]), [['files', true], ['vm-disk', true]]);
    await fsWorkload(pair.volume, rnd, 5);
    const seq = await pair.checkpoint('vm-disk-again');
    await rig.assertRecovers(seq, rig.snapshot(all));
  });

  it('keeps the volumes\' lives across restarts of both VRAs, and reports each volume\'s replica bytes', async () => {
    const all = ['files', 'vm-disk'];
    await pair.target.stop();
    await pair.source.stop();
    await fsWorkload(pair.volume, rnd, 5);
    await pair.target.start();
    await pair.source.start();
    await rig.protecting(all);
    const seq = await pair.checkpoint('after-restarts');
    await rig.assertRecovers(seq, rig.snapshot(all));
    // A hard limit ages the journal into the replica (a restart of the target stream): each
    // volume's bytes are then counted from the replica.
    const limited = { ...rig.targetConfig(all), hardLimitBytes: 1024 * 1024, retentionIntervalMs: 200 };
    assert.equal((await pair.target.ok<{ changed: boolean }>('PUT', PATH, limited)).changed, true);
    await waitUntil('replica bytes per volume', async () => (await rig.target()).volumes.every((v) => v.bytes > 0));
    // The target stream's restart cut the link: the source catches up, then shows it per volume.
    await waitUntil('vm-disk protecting in the metrics', async () => /zcsp_vra_volume_sync_state\{stream="vpg-web-0001",namespace="acme-prod",vpg="web",volume="vm-disk",state="protecting"\} 1/.test(await (await fetch(`${pair.source.healthUrl}/metrics`)).text()));
    const targetMetrics = await (await fetch(`${pair.target.healthUrl}/metrics`)).text();
    assert.match(targetMetrics, /zcsp_vra_volume_replica_bytes\{stream="vpg-web-0001",namespace="acme-prod",vpg="web",volume="files"\} [1-9]/);
    // The bytes are the replica's: exactly what its own checkpoint materialises (retention may
    // still move it on, so read it on both sides of the materialise).
    await waitUntil('the replica counted as its checkpoint holds it', async () => {
      const t = await pair.target.ok<{ status: TargetView & { appliedSeq: number } }>('GET', PATH);
      const res = await rig.materialise(t.status.appliedSeq, all);
      const again = await pair.target.ok<{ status: TargetView & { appliedSeq: number } }>('GET', PATH);
      if (res.status !== 200 || again.status.appliedSeq !== t.status.appliedSeq) return false;
      for (const v of t.status.volumes) {
        const path = res.paths.get(v.name) ?? '';
        const got = v.name === 'vm-disk' ? snapshotImage(path).size : [...snapshotTree(path).values()].reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
        assert.equal(v.bytes, got, `${v.name}: the replica's bytes`);
      }
      return true;
    });
  });
});
