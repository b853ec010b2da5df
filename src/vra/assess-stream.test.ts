// The assessment stream over real folders and image files, in this process: its configuration,
// baseline then measuring, volumes changed in place, and a stop that does not wait for a pass.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AssessStream } from './assess-stream.ts';
import { ChangeRateRecorder } from './change-rate.ts';
import { ConfigError, parseStreamConfig, type AssessConfig } from './stream-config.ts';

const log = pino({ level: 'silent' });
const MiB = 1024 * 1024;

async function until<T>(what: string, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('assess stream', () => {
  const dirs: string[] = [];
  const streams: AssessStream[] = [];
  after(async () => {
    for (const s of streams) await s.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const setup = async (): Promise<{ dir: string; folder: string; image: string; config: (volumes?: AssessConfig['volumes']) => AssessConfig; start: (c: AssessConfig) => Promise<AssessStream> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'zcsp-assess-unit-'));
    dirs.push(dir);
    const folder = join(dir, 'files');
    const image = join(dir, 'disk.img');
    await mkdir(folder);
    await writeFile(join(folder, 'existing.bin'), randomBytes(2 * MiB));
    await writeFile(image, randomBytes(MiB));
    const config = (volumes: AssessConfig['volumes'] = [{ name: 'files', kind: 'fs', path: folder }, { name: 'disk', kind: 'block', path: image }]): AssessConfig => {
      const c = parseStreamConfig({ role: 'assess', vpg: { namespace: 'acme-prod', name: 'web' }, volumes, checkpointIntervalMs: 500, changeRateBucketSeconds: 1 });
      assert.equal(c.role, 'assess');
      return c;
    };
    const start = async (c: AssessConfig): Promise<AssessStream> => {
      const rates = await ChangeRateRecorder.open(join(dir, 'change-rate.json'), { bucketSeconds: c.changeRateBucketSeconds, log });
      const s = new AssessStream('vpg-1', c, log, rates);
      streams.push(s);
      s.start();
      return s;
    };
    return { dir, folder, image, config, start };
  };

  it('parses an assessment: no token, no peer, defaults filled in', () => {
    const c = parseStreamConfig({ role: 'assess', vpg: { namespace: 'acme-prod', name: 'web' }, volumes: [{ name: 'files', kind: 'fs', path: '/data' }] });
    assert.deepEqual(c, {
      role: 'assess', vpg: { namespace: 'acme-prod', name: 'web' }, volumes: [{ name: 'files', kind: 'fs', path: '/data' }],
      checkpointIntervalMs: 5000, compress: true, watch: true, changeRateBucketSeconds: 300,
    });
    assert.throws(() => parseStreamConfig({ ...c, token: 'a-token-long-enough-for-a-source' }), (err: unknown) => err instanceof ConfigError && err.message === 'token: unknown field for role assess');
    assert.throws(() => parseStreamConfig({ ...c, volumes: [{ name: 'files', kind: 'fs' }] }), /volumes\.0\.path: /);
    assert.throws(() => parseStreamConfig({ ...c, changeRateBucketSeconds: 7200 }), /changeRateBucketSeconds: /);
  });

  it('counts nothing of the baseline, then what is written', async () => {
    const t = await setup();
    const s = await t.start(t.config());
    assert.equal(s.status().state, 'baseline');
    await until('measuring', () => s.status().state === 'measuring');
    const passes = s.status().passes;
    await until('another pass', () => s.status().passes > passes);
    for (const v of s.status().volumes) assert.equal(v.changeRate?.rawBytes, 0, v.name);
    const data = Buffer.alloc(MiB, 'the same line of text again\n');
    await writeFile(join(t.dir, 'staged'), data);
    await rename(join(t.dir, 'staged'), join(t.folder, 'new.txt'));
    const r = await until('the write counted', () => {
      const rate = s.status().volumes.find((v) => v.name === 'files')?.changeRate;
      return rate !== undefined && rate.rawBytes >= MiB ? rate : undefined;
    });
    assert.ok(r.compressedBytes < r.rawBytes / 4, `${r.compressedBytes} of ${r.rawBytes}`);
  });

  it('a volume added takes its own baseline; a volume may change kind; a missing path is a problem, not a failure', async () => {
    const t = await setup();
    const s = await t.start(t.config([{ name: 'files', kind: 'fs', path: t.folder }]));
    await until('measuring', () => s.status().state === 'measuring');
    await s.reconfigure(t.config([{ name: 'files', kind: 'fs', path: t.folder }, { name: 'disk', kind: 'block', path: t.image }]));
    assert.deepEqual(s.status().volumes.map((v) => [v.name, v.state]), [['files', 'measuring'], ['disk', 'baseline']]);
    await until('measuring', () => s.status().state === 'measuring');
    // The same name as a block volume elsewhere: a new baseline of the image.
    await s.reconfigure(t.config([{ name: 'files', kind: 'block', path: t.image }]));
    assert.deepEqual(s.status().volumes.map((v) => [v.name, v.kind, v.state]), [['files', 'block', 'baseline']]);
    await until('measuring', () => s.status().state === 'measuring');
    await s.reconfigure(t.config([{ name: 'gone', kind: 'fs', path: join(t.dir, 'missing') }]));
    const st = await until('the problem', () => (s.status().lastError !== undefined ? s.status() : undefined));
    assert.equal(st.state, 'baseline');
    assert.match(st.volumes[0]?.problem ?? '', /volume gone: .*missing/);
    assert.equal(s.canReconfigure({ ...t.config(), compress: false }), false);
  });

  it('stops without waiting for a running baseline to finish', async () => {
    const t = await setup();
    const big = join(t.dir, 'big.img');
    await writeFile(big, randomBytes(16 * MiB));
    const s = await t.start(t.config([{ name: 'big', kind: 'block', path: big }]));
    // Its pass began in start(): had stop() waited for it, the baseline would be complete.
    await s.stop();
    assert.equal(s.status().volumes[0]?.state, 'baseline');
  });
});
