// An assessment stream on a real VRA process, with no recovery side at all: it measures a folder
// and an image file for their change rate and ships nothing. A volume's baseline counts none of
// what it holds; what is written after it is counted raw and as encoded for the wire; volumes come
// and go in place; a restart keeps the window and takes a new baseline; bad configurations are
// refused with the field named; an assessment becomes a source by DELETE, then PUT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findClusterProcesses } from '../cluster/process.ts';
import { waitUntil, writeRandomFile } from './support/pair.ts';
import { VraProcess } from './support/vra-process.ts';

const MiB = 1024 * 1024;
const ID = 'vpg-assess-0001';
const PATH = `/v1/streams/${ID}`;
const BUCKET = 2;
/** Bytes of a change that are not its data: create, write headers, digest (well under this). */
const OVERHEAD = 1024;

interface Rate { since: string; measuredSeconds: number; rawBytes: number; compressedBytes: number; averageRawBytesPerHour: number; peakRawBytesPerHour: number; averageCompressedBytesPerHour: number; peakCompressedBytesPerHour: number }
interface VolumeView { name: string; kind: string; state: string; changeRate?: Rate; problem?: string }
interface AssessView { role: string; state: string; passes: number; lastError?: string; volumes: VolumeView[] }
interface Refusal { code: string; message: string }

describe('assessment stream', () => {
  let dir: string;
  let vra: VraProcess;
  let folder: string;
  let image: string;
  let more: string;
  let staged = 0;
  const clusterId = `assess-test-${process.pid}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zcsp-assess-'));
    folder = join(dir, 'protected', 'files');
    more = join(dir, 'protected', 'more');
    image = join(dir, 'protected', 'disk.img');
    await mkdir(folder, { recursive: true });
    await mkdir(more, { recursive: true });
    await mkdir(join(dir, 'staging'), { recursive: true });
    // What the volumes hold before the assessment: the baseline, never counted.
    await writeRandomFile(join(folder, 'existing.bin'), 6 * MiB);
    await writeFile(join(folder, 'notes.txt'), 'a line of text that repeats\n'.repeat(80_000));
    await writeRandomFile(join(more, 'existing.bin'), 2 * MiB);
    await writeRandomFile(image, 4 * MiB);
    vra = new VraProcess({ name: 'assess', dataDir: join(dir, 'vra', 'data'), clusterId, logDir: dir });
    await vra.start();
  });
  after(async () => {
    await vra.stop();
    for (const p of findClusterProcesses(clusterId)) process.kill(p.pid, 'SIGKILL');
    if (process.env['ZCSP_KEEP_TEST_DIRS'] === undefined) await rm(dir, { recursive: true, force: true });
  });

  const volumes = { files: () => ({ name: 'files', kind: 'fs', path: folder }), disk: () => ({ name: 'disk', kind: 'block', path: image }), more: () => ({ name: 'more', kind: 'fs', path: more }) };
  const config = (names: readonly (keyof typeof volumes)[] = ['files', 'disk']): Record<string, unknown> => ({
    role: 'assess',
    vpg: { namespace: 'acme-prod', name: 'web' },
    volumes: names.map((n) => volumes[n]()),
    checkpointIntervalMs: 500,
    changeRateBucketSeconds: BUCKET,
  });
  const status = async (): Promise<AssessView> => (await vra.ok<{ status: AssessView }>('GET', PATH)).status;
  const rates = async (): Promise<Map<string, Rate | undefined>> => new Map((await status()).volumes.map((v) => [v.name, v.changeRate]));
  const rate = async (name: string): Promise<Rate> => {
    const r = (await rates()).get(name);
    assert.ok(r !== undefined, `volume ${name} has a change rate`);
    return r;
  };
  /** Every volume was passed over twice more: whatever was written before was seen and counted. */
  const twoPassesMore = async (): Promise<void> => {
    const from = (await status()).passes;
    await waitUntil('two more passes', async () => (await status()).passes >= from + 2);
  };
  const meterFile = (): string => join(vra.options.dataDir, 'change-rate', `${ID}.json`);
  /** A file appears whole (written beside, renamed in): a pass never reads it half-written. */
  const put = async (into: string, name: string, data: Buffer): Promise<number> => {
    const path = join(dir, 'staging', `${++staged}`);
    await writeFile(path, data);
    await rename(path, join(into, name));
    return data.length;
  };

  it('refuses bad configurations with the field named, and keeps nothing of them', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...config(), token: 'a-stream-token-of-enough-length' }, /^token: unknown field for role assess$/],
      [{ ...config(), peer: {} }, /^peer: unknown field for role assess$/],
      [{ ...config(), volumes: [{ name: 'files', kind: 'fs', path: 'relative/path' }] }, /volumes\.0\.path: must be an absolute path/],
      [{ ...config(), volumes: [volumes.files(), { ...volumes.more(), name: 'files' }] }, /volumes\.1\.name: files is already the name of volumes\.0/],
      [{ ...config(), volumes: [volumes.files(), { ...volumes.more(), path: folder }] }, /volumes\.1\.path: .* is already the path of volumes\.0/],
      [{ ...config(), volumes: [{ ...volumes.disk(), kind: 'tape' }] }, /volumes\.0\.kind: /],
      [{ ...config(), volumes: [] }, /volumes: /],
      [{ ...config(), checkpointIntervalMs: 10 }, /checkpointIntervalMs: /],
      [{ ...config(), changeRateBucketSeconds: 0 }, /changeRateBucketSeconds: /],
      [{ ...config(), compress: 'yes' }, /compress: /],
    ];
    for (const [body, message] of cases) {
      const res = await vra.control<Refusal>('PUT', PATH, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'Invalid');
      assert.match(res.body.message, message);
    }
    assert.equal(existsSync(join(vra.options.dataDir, 'streams', ID)), false);
    assert.equal(existsSync(meterFile()), false);
    assert.equal((await vra.control('GET', PATH)).status, 404);
  });

  it('takes a baseline of each volume that counts none of what it holds, then measures', async () => {
    const res = await vra.control<{ created: boolean; status: AssessView }>('PUT', PATH, config());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status.role, 'assess');
    assert.equal(res.body.status.state, 'baseline');
    assert.deepEqual(res.body.status.volumes.map((v) => [v.name, v.kind, v.state, v.changeRate]), [['files', 'fs', 'baseline', undefined], ['disk', 'block', 'baseline', undefined]]);
    await waitUntil('every volume to have its baseline', async () => (await status()).state === 'measuring');
    await twoPassesMore();
    const s = await status();
    assert.equal(s.lastError, undefined);
    for (const v of s.volumes) {
      assert.equal(v.state, 'measuring');
      assert.equal(v.changeRate?.rawBytes, 0, `${v.name}: the baseline is not counted`);
      assert.equal(v.changeRate.compressedBytes, 0);
    }
    // Nothing but the configuration and the meter: no journal, no replica, nothing sent anywhere.
    await waitUntil('the meter file', () => Promise.resolve(existsSync(meterFile())));
    assert.deepEqual(await readdir(join(vra.options.dataDir, 'streams', ID)), ['config.json']);
  });

  it('counts what is written to a folder and to an image, raw and as compressed', async () => {
    const before = await rates();
    const text = await put(folder, 'log.txt', Buffer.from('GET /api/v1/orders 200 12ms tenant=acme\n'.repeat(Math.ceil((4 * MiB) / 40))).subarray(0, 4 * MiB));
    // 1 MiB of the image rewritten in place (on a copy put over it, so no pass reads it torn).
    const copy = join(dir, 'staging', 'disk.img');
    await copyFile(image, copy);
    const fh = await open(copy, 'r+');
    await fh.write(randomBytes(MiB), 0, MiB, MiB);
    await fh.close();
    await rename(copy, image);
    await waitUntil('the writes to be counted', async () => {
      const now = await rates();
      return (now.get('files')?.rawBytes ?? 0) >= text && (now.get('disk')?.rawBytes ?? 0) >= MiB;
    });
    await twoPassesMore();
    const after = await rates();
    const delta = (name: string): { raw: number; compressed: number } => ({
      raw: (after.get(name)?.rawBytes ?? 0) - (before.get(name)?.rawBytes ?? 0),
      compressed: (after.get(name)?.compressedBytes ?? 0) - (before.get(name)?.compressedBytes ?? 0),
    });
    const files = delta('files');
    assert.ok(files.raw >= text && files.raw <= text + OVERHEAD, `files: raw ${files.raw} for ${text} bytes written`);
    assert.ok(files.compressed < files.raw / 4, `files: ${files.compressed} compressed of ${files.raw}`);
    const disk = delta('disk');
    assert.ok(disk.raw >= MiB && disk.raw <= MiB + OVERHEAD, `disk: raw ${disk.raw} for ${MiB} bytes rewritten`);
    assert.ok(Math.abs(disk.compressed - disk.raw) <= OVERHEAD, `disk: ${disk.compressed} compressed of ${disk.raw}`);
  });

  it('gives the busiest bucket as the peak, above the average once quiet buckets follow', async () => {
    const burst = await rate('files');
    const r = await waitUntil('quiet buckets', async () => {
      const now = await rate('files');
      return now.measuredSeconds >= burst.measuredSeconds + 3 * BUCKET ? now : undefined;
    });
    assert.equal(r.rawBytes, burst.rawBytes);
    assert.ok(r.peakRawBytesPerHour > r.averageRawBytesPerHour, `peak ${r.peakRawBytesPerHour} above average ${r.averageRawBytesPerHour}`);
    assert.ok(r.peakCompressedBytesPerHour > r.averageCompressedBytesPerHour);
  });

  it('changes volumes in place: an added one takes its own baseline, a removed one\'s measurement goes', async () => {
    const same = await vra.ok<{ changed: boolean }>('PUT', PATH, config());
    assert.equal(same.changed, false, 'the same body again changes nothing');
    const before = await rates();
    const added = await vra.ok<{ changed: boolean; status: AssessView }>('PUT', PATH, config(['files', 'disk', 'more']));
    assert.equal(added.changed, true);
    assert.equal(added.status.state, 'baseline');
    assert.deepEqual(added.status.volumes.map((v) => [v.name, v.state]), [['files', 'measuring'], ['disk', 'measuring'], ['more', 'baseline']]);
    await waitUntil('the added volume\'s baseline', async () => (await status()).state === 'measuring');
    await twoPassesMore();
    const now = await rates();
    assert.equal(now.get('more')?.rawBytes, 0, 'the added volume\'s 2 MiB are its baseline');
    for (const name of ['files', 'disk']) {
      assert.equal(now.get(name)?.since, before.get(name)?.since);
      assert.equal(now.get(name)?.rawBytes, before.get(name)?.rawBytes);
    }
    await vra.ok('PUT', PATH, config(['files', 'more']));
    assert.deepEqual((await status()).volumes.map((v) => v.name), ['files', 'more']);
    await waitUntil('the removed volume to leave the meter file', async () => {
      const stored = JSON.parse(await readFile(meterFile(), 'utf8')) as { volumes: Record<string, unknown> };
      return Object.keys(stored.volumes).sort().join(',') === 'files,more';
    });
  });

  it('exposes its state and the volumes\' change as metrics', async () => {
    const r = await rate('files');
    const metrics = await (await fetch(`${vra.healthUrl}/metrics`)).text();
    const l = `stream="${ID}",namespace="acme-prod",vpg="web"`;
    assert.match(metrics, new RegExp(`^zcsp_vra_assess_state\\{${l},state="measuring"\\} 1$`, 'm'));
    assert.match(metrics, new RegExp(`^zcsp_vra_change_bytes_total\\{${l},volume="files",size="raw"\\} ${r.rawBytes}$`, 'm'));
    assert.match(metrics, new RegExp(`^zcsp_vra_change_bytes_total\\{${l},volume="files",size="compressed"\\} ${r.compressedBytes}$`, 'm'));
    assert.match(metrics, new RegExp(`^zcsp_vra_change_peak_bytes_per_hour\\{${l},volume="files",size="raw"\\} \\d+$`, 'm'));
  });

  it('resumes after a VRA restart with a new baseline, keeping the window', async () => {
    const before = await rate('files');
    await vra.stop();
    // Changed while nobody looked: part of the new baseline, not a change it can date.
    await writeRandomFile(join(folder, 'while-down.bin'), MiB);
    await vra.start();
    const resumed = await rate('files');
    assert.equal(resumed.since, before.since);
    assert.equal(resumed.rawBytes, before.rawBytes);
    await waitUntil('the new baseline', async () => (await status()).state === 'measuring');
    await twoPassesMore();
    assert.equal((await rate('files')).rawBytes, before.rawBytes, 'what changed while down is not counted');
    const written = await put(folder, 'after-restart.bin', randomBytes(MiB));
    await waitUntil('the write to be counted', async () => (await rate('files')).rawBytes >= before.rawBytes + written);
  });

  it('becomes a source by DELETE, then PUT; DELETE removes its meter file', async () => {
    const source = {
      role: 'source', vpg: { namespace: 'acme-prod', name: 'web' }, token: 'a-stream-token-of-enough-length',
      volumes: [volumes.files()], peer: { address: { host: '127.0.0.1', port: 1 }, ca: vra.cert, servername: 'vra.zcsp.io' },
    };
    const refused = await vra.control<Refusal>('PUT', PATH, source);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /is an assessment here; delete it before configuring it as a source/);
    assert.equal((await vra.control('DELETE', PATH)).status, 200);
    assert.equal(existsSync(meterFile()), false);
    assert.equal(existsSync(join(vra.options.dataDir, 'streams', ID)), false);
    const created = await vra.control<{ status: { role: string } }>('PUT', PATH, source);
    assert.equal(created.status, 201);
    assert.equal(created.body.status.role, 'source');
    const shown = await vra.ok<{ config: { token: string } }>('GET', PATH);
    assert.equal(shown.config.token, '(hidden)');
    assert.equal((await vra.control('DELETE', PATH)).status, 200);
  });
});
