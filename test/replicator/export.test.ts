// The mover with real processes: a source and a recovery VRA, random workloads between tagged
// checkpoints, exports made on the recovery VRA, and `zcsp restore` run as a child process (as a
// restore pod runs it) into temp folders. Every restore equals the source as it was at the
// exported checkpoint — also after retention moved past it — and every failure says what and
// where, leaves nothing behind, and a re-run succeeds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { Pair, STREAM, waitUntil, type SourceSnapshot } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { runRestore, type CreatedExport, type RestoreRun } from './support/restore.ts';
import { diffSnapshots, snapshotImage, snapshotTree } from './support/snapshot.ts';
import { blockWorkload, fsWorkload } from './support/workload.ts';

const MiB = 1024 * 1024;
const IMAGE_BYTES = 256 * MiB;

describe('exports and `zcsp restore`, with real processes', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let pair: Pair;
  let first: { seq: number; snap: SourceSnapshot } | undefined;
  let targets = 0;
  const proxies: FaultProxy[] = [];

  before(async () => {
    // Checkpoints only when a test asks (tagged): nothing moves a checkpoint out of reach unasked.
    pair = await Pair.start({ imageBytes: IMAGE_BYTES, checkpointIntervalMs: 3_600_000 });
  });
  after(async () => {
    await Promise.allSettled(proxies.map((p) => p.close()));
    await pair.close();
  });

  const into = (name: string): string => join(pair.dir, 'pods', `${++targets}-${name}`);
  const exportsDir = (): string => join(pair.target.options.dataDir, 'exports');
  const createExport = (body: Record<string, unknown>): Promise<CreatedExport> => pair.target.ok<CreatedExport>('POST', `/v1/streams/${STREAM}/exports`, body);
  const proxy = async (): Promise<FaultProxy> => {
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: pair.target.controlPort } });
    proxies.push(p);
    return p;
  };
  const succeeded = (run: RestoreRun): void => {
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.result.ok, true);
  };
  const failed = (run: RestoreRun, message: RegExp): void => {
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.result.ok, false);
  };
  /** Nothing of a failed restore is left at the target (a folder stays missing or empty). */
  const nothingAt = (path: string): void => {
    assert.ok(!existsSync(path) || readdirSync(path).length === 0, `${path} holds ${existsSync(path) ? readdirSync(path).join(', ') : ''}`);
    assert.equal(existsSync(`${path}.zcsp-restore-partial`), false);
  };
  const checkpointNow = async (tag: string): Promise<{ seq: number; snap: SourceSnapshot }> => {
    await fsWorkload(pair.volume, rnd, 30);
    await blockWorkload(pair.image, rnd, 20);
    const seq = await pair.checkpoint(tag);
    return { seq, snap: pair.snapshot() };
  };

  it(`restores a checkpoint taken some writes ago, fs and block, as the source was then (seed ${rnd.seed})`, async (t) => {
    await fsWorkload(pair.volume, rnd, 60);
    const a = await checkpointNow('a');
    first = a;
    await checkpointNow('b');
    await checkpointNow('c');

    const t0 = performance.now();
    const files = await createExport({ checkpoint: a.seq, volume: 'files' });
    const t1 = performance.now();
    const disk = await createExport({ checkpoint: a.seq, volume: 'disk' });
    const t2 = performance.now();
    assert.deepEqual({ seq: files.checkpoint.seq, tag: files.checkpoint.tag, kind: files.kind }, { seq: a.seq, tag: 'a', kind: 'fs' });
    assert.deepEqual({ kind: disk.kind, bytes: disk.bytes, files: disk.files }, { kind: 'block', bytes: a.snap.disk.size, files: 1 });
    assert.ok(Date.parse(disk.expiresAt) - Date.now() > 3500_000, 'the default ttl is an hour');
    assert.match(disk.token, /^[A-Za-z0-9_-]{43}$/);

    const filesAt = into('files');
    const rf = await runRestore(pair, { export: files, into: filesAt, verify: true });
    succeeded(rf);
    assert.deepEqual(diffSnapshots(a.snap.files, snapshotTree(filesAt)), [], `files of checkpoint ${a.seq} (seed ${rnd.seed})`);
    assert.deepEqual({ seq: rf.result.checkpoint?.seq, verified: rf.result.verified, files: rf.result.files, bytes: rf.result.bytes }, { seq: a.seq, verified: true, files: files.files, bytes: files.bytes });

    const diskAt = into('disk.img');
    const rd = await runRestore(pair, { export: disk, into: diskAt });
    succeeded(rd);
    assert.deepEqual(snapshotImage(diskAt), a.snap.disk, `image of checkpoint ${a.seq}`);
    if ((rd.result.seconds ?? 0) > 1.5) assert.match(rd.stderr, /zcsp restore: \d+\.\d MiB of 25\d\.\d MiB \(\d+%\), 0 of 1 files, [\d.]+ MiB\/s\n/, 'progress every second');
    assert.match(rd.stderr, /zcsp restore: done: 25\d\.\d MiB in 1 files/);
    const restoreSeconds = rd.result.seconds ?? rd.seconds;
    const diskMiB = disk.bytes / MiB;
    t.diagnostic(`${diskMiB.toFixed(0)} MiB block volume: export created in ${((t2 - t1) / 1000).toFixed(2)} s (materialise + fsync, ${(diskMiB / ((t2 - t1) / 1000)).toFixed(0)} MiB/s); `
      + `restored in ${restoreSeconds.toFixed(2)} s = ${(diskMiB / restoreSeconds).toFixed(0)} MiB/s over TLS, fsync'd (process wall time ${rd.seconds.toFixed(2)} s); `
      + `fs volume (${files.files} files, ${(files.bytes / MiB).toFixed(1)} MiB): export ${((t1 - t0) / 1000).toFixed(2)} s, restore + verify ${(rf.result.seconds ?? 0).toFixed(2)} s`);

    const verified = await runRestore(pair, { export: disk, into: into('disk-verified.img'), verify: true });
    succeeded(verified);
    t.diagnostic(`the same with --verify: ${(verified.result.seconds ?? 0).toFixed(2)} s`);

    const metrics = await (await fetch(`${pair.target.healthUrl}/metrics`)).text();
    const labels = `stream="${STREAM}",namespace="acme-prod",vpg="web"`;
    const sent = Number(new RegExp(`zcsp_vra_export_bytes_total\\{${labels}\\} (\\d+)`).exec(metrics)?.[1]);
    // All-zero chunks go as holes, not bytes: the counter has at most the content, and the two
    // random images almost all of theirs. The image's size is the checkpoint's (the workload may
    // have grown it past IMAGE_BYTES).
    assert.ok(sent >= 2 * disk.bytes * 0.99 && sent <= 2 * disk.bytes + files.bytes, `bytes exported: ${sent} (images 2 × ${disk.bytes}, files ${files.bytes})`);
    assert.match(metrics, new RegExp(`zcsp_vra_exports\\{${labels}\\} 2\\n`));
    assert.match(metrics, new RegExp(`zcsp_vra_exports_in_progress\\{${labels}\\} 0\\n`));
    for (const e of [files, disk]) assert.equal((await pair.target.control('DELETE', `/v1/exports/${e.exportId}`)).status, 200);
  });

  it('an export stays as of its checkpoint while the source writes and retention runs past it', async (t) => {
    const pinned = await checkpointNow('pinned');
    const files = await createExport({ checkpoint: pinned.seq, volume: 'files' });
    const disk = await createExport({ checkpoint: pinned.seq, volume: 'disk' });
    // From now on retention keeps the journal under 1 MiB: the checkpoint soon leaves the recoverable range.
    await pair.target.ok('PUT', `/v1/streams/${STREAM}`, { ...pair.targetConfig(), hardLimitBytes: MiB, retentionIntervalMs: 200 });
    let stop = false;
    const stopped = (): boolean => stop;
    let rounds = 0;
    const writer = (async () => {
      while (!stopped()) {
        await fsWorkload(pair.volume, rnd, 10);
        await blockWorkload(pair.image, rnd, 10);
        // The target stream restarted with its new limits: a checkpoint may be refused meanwhile.
        await pair.checkpoint(`bg-${++rounds}`).catch(() => sleep(200));
      }
    })();
    try {
      const oldest = await waitUntil('retention to apply past the exported checkpoint', async () => {
        const { checkpoints } = await pair.target.ok<{ checkpoints: { seq: number }[] }>('GET', `/v1/streams/${STREAM}/checkpoints`);
        const seq = checkpoints[0]?.seq ?? 0;
        return seq > pinned.seq ? seq : undefined;
      }, 120_000);
      const gone = await pair.target.control('POST', `/v1/streams/${STREAM}/materialise`, { checkpoint: pinned.seq, targets: { files: join(pair.restoreRoot, 'late') } });
      assert.equal(gone.status, 404, 'the checkpoint itself is no longer recoverable');
      const filesAt = into('files');
      const diskAt = into('disk.img');
      succeeded(await runRestore(pair, { export: files, into: filesAt, verify: true }));
      succeeded(await runRestore(pair, { export: disk, into: diskAt, verify: true }));
      assert.deepEqual(diffSnapshots(pinned.snap.files, snapshotTree(filesAt)), [], `files of checkpoint ${pinned.seq} (seed ${rnd.seed})`);
      assert.deepEqual(snapshotImage(diskAt), pinned.snap.disk);
      t.diagnostic(`checkpoint ${pinned.seq} restored after retention moved the oldest recoverable checkpoint to ${oldest}, with ${rounds} checkpoints of writes since`);
      for (const e of [files, disk]) await pair.target.ok('DELETE', `/v1/exports/${e.exportId}`);
    } finally {
      stop = true;
      await writer;
    }
  });

  it('refuses a wrong token, another export\'s token and the operator\'s; the right one works', async () => {
    const mine = await createExport({ checkpoint: 'latest', volume: 'files' });
    const other = await createExport({ checkpoint: 'latest', volume: 'files' });
    const target = into('files');
    failed(await runRestore(pair, { export: mine, into: target, token: 'not-the-export-token-at-all' }), /zcsp restore: the VRA refused the export token \(HTTP 401/);
    failed(await runRestore(pair, { export: mine, into: target, token: other.token }), /the VRA refused the export token/);
    nothingAt(target);
    assert.equal((await pair.target.control('GET', mine.path)).status, 401, 'the operator\'s token opens no export');
    succeeded(await runRestore(pair, { export: mine, into: target }));
    for (const e of [mine, other]) await pair.target.ok('DELETE', `/v1/exports/${e.exportId}`);
  });

  it('an export expires: the transfer under way finishes, a new one is refused, its scratch goes', async () => {
    // Long enough for a restore process to start and connect on a loaded machine; the throttled
    // transfer then takes about twice that, so it runs past the expiry.
    const ttlSeconds = 6;
    const e = await createExport({ checkpoint: 'latest', volume: 'files', ttlSeconds });
    const slow = await proxy();
    slow.setThrottle(Math.max(64 * 1024, Math.floor(e.bytes / (2 * ttlSeconds))));
    const run = await runRestore(pair, { export: e, into: into('files'), port: slow.port });
    succeeded(run);
    assert.ok(Date.now() > Date.parse(e.expiresAt), `the transfer (${String(run.seconds)} s) ended past the expiry`);
    const target = into('files');
    failed(await runRestore(pair, { export: e, into: target }), new RegExp(`no such export \\(HTTP 410: export ${e.exportId} expired at `));
    nothingAt(target);
    await waitUntil('the expired export\'s scratch to go', () => Promise.resolve(!existsSync(join(exportsDir(), e.exportId))), 10_000);
  });

  it('a deleted export stops the transfer under way and is refused after', async () => {
    const e = await createExport({ checkpoint: 'latest', volume: 'disk' });
    const slow = await proxy();
    slow.setThrottle(32 * MiB);
    const target = into('disk.img');
    const run = runRestore(pair, { export: e, into: target, port: slow.port });
    await waitUntil('the transfer to be under way', () => Promise.resolve(slow.stats.bytesDown > 16 * MiB));
    const metrics = await (await fetch(`${pair.target.healthUrl}/metrics`)).text();
    assert.match(metrics, /zcsp_vra_exports_in_progress\{[^}]*\} 1\n/);
    assert.equal((await pair.target.control('DELETE', `/v1/exports/${e.exportId}`)).status, 200);
    failed(await run, /the VRA stopped the export inside the image \(at byte \d+ of \d+\): the export was deleted/);
    nothingAt(target);
    failed(await runRestore(pair, { export: e, into: target }), new RegExp(`HTTP 410: export ${e.exportId} was deleted at `));
    assert.equal((await pair.target.control('DELETE', `/v1/exports/${e.exportId}`)).status, 404);
    assert.equal(existsSync(join(exportsDir(), e.exportId)), false);
  });

  it('refuses an unknown volume, a checkpoint out of range and a bad ttl, naming the field, and holds nothing', async () => {
    const before = readdirSync(exportsDir()).sort();
    const post = (body: unknown, vra = pair.target) => vra.control<{ code: string; message: string }>('POST', `/v1/streams/${STREAM}/exports`, body);
    const refused = async (body: unknown, status: number, message: RegExp, vra = pair.target): Promise<void> => {
      const r = await post(body, vra);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.message, message);
    };
    await refused({ checkpoint: 'latest', volume: 'nope' }, 400, /^volume: stream vpg-web-0001 has no volume nope; it has files, disk$/);
    await refused({ checkpoint: 999_999, volume: 'files' }, 404, /^checkpoint: stream vpg-web-0001 has no recoverable checkpoint 999999 \(recoverable now: \d+ to \d+\)$/);
    assert.ok(first !== undefined);
    await refused({ checkpoint: first.seq, volume: 'disk' }, 404, new RegExp(`^checkpoint: .*no recoverable checkpoint ${first.seq} `));
    await refused({ checkpoint: 'soon', volume: 'files' }, 400, /^checkpoint: /);
    await refused({ checkpoint: 'latest', volume: 'files', ttlSeconds: 0 }, 400, /^ttlSeconds: /);
    await refused({ checkpoint: 'latest', volume: 'files', ttlSeconds: 30 * 86_400 }, 400, /^ttlSeconds: /);
    await refused({ checkpoint: 'latest', volume: 'files', path: '/etc' }, 400, /Unrecognized key: "path"/);
    await refused({ checkpoint: 'latest', volume: 'files' }, 409, /is a source here/, pair.source);
    assert.equal((await pair.target.control('POST', '/v1/streams/no-such-stream/exports', { checkpoint: 'latest', volume: 'files' })).status, 404);
    assert.deepEqual(readdirSync(exportsDir()).sort(), before);
  });

  it('refuses a target folder that is not empty, and an existing image file, touching neither', async () => {
    const files = await createExport({ checkpoint: 'latest', volume: 'files' });
    const disk = await createExport({ checkpoint: 'latest', volume: 'disk' });
    const folder = into('files');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'precious'), 'keep me');
    failed(await runRestore(pair, { export: files, into: folder }), /--into .* is not empty \(1 entries, e\.g\. "precious"\): restore writes only into an empty folder/);
    assert.deepEqual(readdirSync(folder), ['precious']);
    const image = into('disk.img');
    await writeFile(image, 'an old image');
    failed(await runRestore(pair, { export: disk, into: image }), /--into .* exists: an image is restored into a new file or a block device/);
    assert.equal(readFileSync(image, 'utf8'), 'an old image');
    succeeded(await runRestore(pair, { export: files, into: into('files') }));
    for (const e of [files, disk]) await pair.target.ok('DELETE', `/v1/exports/${e.exportId}`);
  });

  it('a stream cut in the middle: restore names where, leaves nothing, and a re-run succeeds', async () => {
    const cp = await checkpointNow('cut');
    const files = await createExport({ checkpoint: cp.seq, volume: 'files' });
    const disk = await createExport({ checkpoint: cp.seq, volume: 'disk' });
    const link = await proxy();
    let cutAfter = Infinity;
    link.tap((direction) => {
      if (direction === 'down' && link.stats.bytesDown > cutAfter) {
        cutAfter = Infinity;
        setImmediate(() => link.cut());
      }
    });
    const cases = [
      { e: disk, at: into('disk.img'), cut: 64 * MiB, where: /(the connection to the VRA broke|the export stream ended early,) inside the image \(at byte \d+ of \d+\)/ },
      { e: files, at: into('files'), cut: Math.floor(files.bytes / 2), where: /(the connection to the VRA broke|the export stream ended early,) (inside|after) "[^"]+"/ },
    ];
    for (const c of cases) {
      cutAfter = link.stats.bytesDown + c.cut;
      failed(await runRestore(pair, { export: c.e, into: c.at, port: link.port }), c.where);
      nothingAt(c.at);
      succeeded(await runRestore(pair, { export: c.e, into: c.at, port: link.port, verify: true }));
    }
    assert.deepEqual(snapshotImage(cases[0]?.at ?? ''), cp.snap.disk);
    assert.deepEqual(diffSnapshots(cp.snap.files, snapshotTree(cases[1]?.at ?? '')), []);
    // A VRA that goes quiet mid-stream (the link stalls): the restore gives up, saying where.
    const quietAt = into('disk.img');
    link.tap((direction) => {
      if (direction === 'down' && link.stats.bytesDown > cutAfter) {
        cutAfter = Infinity;
        link.stall('down');
      }
    });
    cutAfter = link.stats.bytesDown + 32 * MiB;
    failed(await runRestore(pair, { export: disk, into: quietAt, port: link.port, timeoutSeconds: 2 }), /the VRA sent nothing for 2 s, inside the image \(at byte \d+ of \d+\)/);
    nothingAt(quietAt);
    link.resume('down');
    succeeded(await runRestore(pair, { export: disk, into: quietAt, port: link.port }));
    for (const e of [files, disk]) await pair.target.ok('DELETE', `/v1/exports/${e.exportId}`);
  });

  it('the recovery VRA killed during an export: restore fails clearly; after the restart the export is still there', async () => {
    const cp = await checkpointNow('before-kill');
    const disk = await createExport({ checkpoint: cp.seq, volume: 'disk' });
    const shortLived = await createExport({ checkpoint: cp.seq, volume: 'files', ttlSeconds: 1 });
    const slow = await proxy();
    slow.setThrottle(32 * MiB);
    const target = into('disk.img');
    const run = runRestore(pair, { export: disk, into: target, port: slow.port });
    await waitUntil('the transfer to be under way', () => Promise.resolve(slow.stats.bytesDown > 16 * MiB));
    await pair.target.kill();
    failed(await run, /(the connection to the VRA broke|the export stream ended early,) inside the image \(at byte \d+ of \d+\)/);
    nothingAt(target);
    // What a VRA start clears: an export whose creation was interrupted, and one that expired meanwhile.
    const interrupted = join(exportsDir(), randomUUID());
    await mkdir(join(interrupted, 'content'), { recursive: true });
    await sleep(1100);
    await pair.target.start();
    assert.deepEqual(readdirSync(exportsDir()), [disk.exportId]);
    slow.setThrottle(undefined);
    succeeded(await runRestore(pair, { export: disk, into: target, port: slow.port }));
    assert.deepEqual(snapshotImage(target), cp.snap.disk);
    failed(await runRestore(pair, { export: shortLived, into: into('files') }), new RegExp(`HTTP 404: no export ${shortLived.exportId} on this VRA`));
  });

  it('exports go with their volume and with their stream', async () => {
    const files = await createExport({ checkpoint: 'latest', volume: 'files' });
    const disk = await createExport({ checkpoint: 'latest', volume: 'disk' });
    await pair.target.ok('PUT', `/v1/streams/${STREAM}`, { ...pair.targetConfig(), volumes: [{ name: 'files', kind: 'fs' }] });
    failed(await runRestore(pair, { export: disk, into: into('disk.img') }), /HTTP 410: export .* went with its volume at /);
    const listed = await pair.target.ok<{ exports: { exportId: string; volume: string; transfers: number }[] }>('GET', `/v1/streams/${STREAM}/exports`);
    assert.deepEqual(listed.exports.map((e) => ({ exportId: e.exportId, volume: e.volume, transfers: e.transfers })), [{ exportId: files.exportId, volume: 'files', transfers: 0 }]);
    assert.ok(!JSON.stringify(listed).includes(files.token), 'no token in the list');
    assert.equal((await pair.target.control('DELETE', `/v1/streams/${STREAM}`)).status, 200);
    failed(await runRestore(pair, { export: files, into: into('files') }), /HTTP 410: export .* went with its stream at /);
    assert.deepEqual(readdirSync(exportsDir()), []);
  });
});
