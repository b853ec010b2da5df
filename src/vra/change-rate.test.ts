import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ChangeRateError, ChangeRateMeter, ChangeRateRecorder, WINDOW_SECONDS } from './change-rate.ts';

const HOUR = 3_600_000;
const must = <T>(v: T | undefined): T => {
  assert.ok(v !== undefined);
  return v;
};
/** A clock the test moves; starts on a bucket boundary of every length used here. */
const clock = (start = Date.UTC(2030, 0, 7)): { now: () => number; advance: (ms: number) => void; set: (t: number) => void } => {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; }, set: (v) => { t = v; } };
};

describe('change rate meter', () => {
  it('knows nothing of a volume until its measurement starts, then a zero rate is an answer', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    m.count('data', 100, 50);
    assert.equal(m.rate('data'), undefined, 'bytes of a volume not measured are not counted');
    m.measure('data', true);
    c.advance(120_000);
    assert.deepEqual(m.rate('data'), {
      since: new Date(Date.UTC(2030, 0, 7)).toISOString(),
      measuredSeconds: 120, windowSeconds: WINDOW_SECONDS, bucketSeconds: 300,
      rawBytes: 0, compressedBytes: 0,
      averageRawBytesPerHour: 0, averageCompressedBytesPerHour: 0, peakRawBytesPerHour: 0, peakCompressedBytesPerHour: 0,
    });
  });

  it('counts bytes into buckets and time only while measuring; the average is per measured hour', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    m.measure('data', true);
    c.advance(150_000);
    m.count('data', 6000, 2000);
    c.advance(150_000);
    m.measure('data', false);
    // Down for an hour: neither bytes nor time.
    c.advance(HOUR);
    m.measure('data', true);
    c.advance(200_000);
    m.count('data', 6000, 2000);
    c.advance(100_000);
    const r = must(m.rate('data'));
    assert.equal(r.measuredSeconds, 600);
    assert.equal(r.rawBytes, 12_000);
    assert.equal(r.compressedBytes, 4000);
    assert.equal(r.averageRawBytesPerHour, 72_000);
    assert.equal(r.averageCompressedBytesPerHour, 24_000);
    // Each bucket: 6000 bytes in 300 measured seconds.
    assert.equal(r.peakRawBytesPerHour, 72_000);
    assert.equal(r.peakCompressedBytesPerHour, 24_000);
  });

  it('splits measured time at bucket boundaries, and the peak is the busiest bucket', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    m.measure('data', true);
    c.advance(100_000);
    m.count('data', 1000, 1000);
    // One call covers three buckets: 200 s of the first, all of the second, 250 s of the third.
    c.advance(750_000);
    m.count('data', 9000, 3000);
    const r = must(m.rate('data'));
    assert.equal(r.measuredSeconds, 850);
    assert.equal(r.averageRawBytesPerHour, Math.ceil(10_000 * 3600 / 850));
    // The third bucket, still filling: 9000 bytes in its 250 s measured so far.
    assert.equal(r.peakRawBytesPerHour, 129_600);
    assert.equal(r.peakCompressedBytesPerHour, 43_200);
    const stored = m.toJSON().volumes['data'];
    assert.deepEqual(stored?.buckets.map((b) => b[3]), [300_000, 300_000, 250_000]);
  });

  it('a burst in the first seconds of a bucket is not extrapolated from less than a minute', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    m.measure('data', true);
    c.advance(5_000);
    m.count('data', 60_000, 60_000);
    let r = must(m.rate('data'));
    // 60 000 bytes over at least 60 s, not over the 5 s measured.
    assert.equal(r.peakRawBytesPerHour, 3_600_000);
    assert.equal(r.averageRawBytesPerHour, 3_600_000);
    c.advance(295_000);
    r = must(m.rate('data'));
    assert.equal(r.peakRawBytesPerHour, 720_000);
    // Buckets shorter than a minute use their own length as the floor.
    const short = new ChangeRateMeter({ bucketSeconds: 10, now: c.now });
    short.measure('data', true);
    c.advance(1000);
    short.count('data', 1000, 1000);
    assert.equal(short.rate('data')?.peakRawBytesPerHour, 360_000);
  });

  it('the peak is never below the average, even with buckets measured in part', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    c.advance(260_000);
    m.measure('data', true);
    c.advance(30_000);
    m.count('data', 100, 100);
    c.advance(30_000);
    m.count('data', 100, 100);
    const r = must(m.rate('data'));
    // 40 s of the first bucket and 20 s of the second, 100 bytes each: each bucket alone is 100
    // bytes over the 60 s floor, but the two together are 200 bytes in 60 s.
    assert.deepEqual(m.toJSON().volumes['data']?.buckets.map((b) => [b[1], b[3]]), [[100, 40_000], [100, 20_000]]);
    assert.equal(r.averageRawBytesPerHour, 12_000);
    assert.equal(r.peakRawBytesPerHour, 12_000);
  });

  it('keeps a rolling window: old buckets leave, with their bytes and time', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 60, windowSeconds: 600, now: c.now });
    m.measure('data', true);
    c.advance(30_000);
    m.count('data', 1_000_000, 500_000);
    c.advance(570_000);
    m.count('data', 10, 10);
    let r = must(m.rate('data'));
    assert.equal(r.rawBytes, 1_000_010);
    assert.equal(r.measuredSeconds, 600);
    c.advance(60_000);
    r = must(m.rate('data'));
    assert.equal(r.rawBytes, 10, 'the burst left the window');
    assert.equal(r.measuredSeconds, 600);
    assert.equal(r.peakRawBytesPerHour, 600);
    assert.equal(r.since, new Date(Date.UTC(2030, 0, 7)).toISOString(), 'since stays when its buckets leave');
    // Not measured for longer than the window: nothing left but since.
    m.measure('data', false);
    c.advance(3_600_000);
    r = must(m.rate('data'));
    assert.equal(r.measuredSeconds, 0);
    assert.equal(r.rawBytes, 0);
    assert.deepEqual(m.toJSON().volumes['data']?.buckets, []);
    // Measured across a long stretch with no call in between: only the window's time is added.
    m.measure('data', true);
    c.advance(10 * 3_600_000);
    assert.equal(m.rate('data')?.measuredSeconds, 600);
  });

  it('drops the volumes not retained', () => {
    const c = clock();
    const m = new ChangeRateMeter({ now: c.now });
    m.measure('a', true);
    m.measure('b', true);
    assert.equal(m.retain(['a', 'b']), false);
    assert.equal(m.retain(['a']), true);
    assert.deepEqual(m.volumes(), ['a']);
    assert.equal(m.rate('b'), undefined);
  });

  it('round-trips through its stored form, and rebuckets when the bucket length changed', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 60, now: c.now });
    m.measure('data', true);
    c.advance(30_000);
    m.count('data', 300, 100);
    c.advance(60_000);
    m.count('data', 600, 200);
    c.advance(30_000);
    const stored = JSON.parse(JSON.stringify(m.toJSON())) as unknown;
    const back = ChangeRateMeter.fromJSON(stored, { bucketSeconds: 60, now: c.now });
    assert.deepEqual(back.rate('data'), m.rate('data'));
    assert.equal(back.isMeasuring('data'), false, 'a loaded volume waits to be measured again');
    // Time passes unmeasured (the VRA was down), then measurement resumes.
    c.advance(60_000);
    back.measure('data', true);
    c.advance(60_000);
    assert.equal(back.rate('data')?.measuredSeconds, 180);
    assert.equal(back.rate('data')?.since, m.rate('data')?.since);
    const wider = ChangeRateMeter.fromJSON(stored, { bucketSeconds: 300, now: c.now });
    const r = must(wider.rate('data'));
    assert.equal(r.rawBytes, 900);
    assert.equal(r.measuredSeconds, 120);
    assert.deepEqual(wider.toJSON().volumes['data']?.buckets, [[Date.UTC(2030, 0, 7), 900, 300, 120_000]]);
  });

  it('refuses a damaged stored form, naming the field', () => {
    assert.throws(() => ChangeRateMeter.fromJSON({ version: 1, bucketSeconds: 300, volumes: { data: { since: 1, buckets: [[0, -5, 0, 0]] } } }), (err: unknown) => {
      assert.ok(err instanceof ChangeRateError);
      assert.match(err.message, /^volumes\.data\.buckets\.0\.1: /);
      return true;
    });
    assert.throws(() => ChangeRateMeter.fromJSON({ version: 2 }), /version: /);
    assert.throws(() => ChangeRateMeter.fromJSON('x'), ChangeRateError);
    assert.throws(() => new ChangeRateMeter({ bucketSeconds: 0 }), /bucketSeconds: 0/);
    assert.throws(() => new ChangeRateMeter({ bucketSeconds: 600, windowSeconds: 300 }), /windowSeconds: 300/);
  });

  it('tells how long until the next bucket', () => {
    const c = clock();
    const m = new ChangeRateMeter({ bucketSeconds: 300, now: c.now });
    assert.equal(m.untilRollover(), 300_000);
    c.advance(299_000);
    assert.equal(m.untilRollover(), 1000);
  });
});

describe('change rate file', () => {
  const dirs: string[] = [];
  const log = pino({ level: 'silent' });
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'zcsp-change-rate-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is written on close and read back by the next recorder', async () => {
    const c = clock();
    const file = join(await dir(), 'change-rate', 'vpg-1.json');
    const counted = new Map<string, { rawBytes: number; compressedBytes: number }>();
    const first = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log, now: c.now, counted });
    first.meter.measure('data', true);
    c.advance(90_000);
    first.meter.count('data', 1234, 567);
    await first.close();
    assert.equal(first.meter.isMeasuring('data'), false);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { volumes: Record<string, unknown> };
    assert.deepEqual(Object.keys(stored.volumes), ['data']);
    c.advance(60_000);
    const second = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log, now: c.now, counted });
    const r = must(second.meter.rate('data'));
    assert.equal(r.rawBytes, 1234);
    assert.equal(r.compressedBytes, 567);
    assert.equal(r.measuredSeconds, 90);
    assert.equal(r.since, new Date(Date.UTC(2030, 0, 7)).toISOString());
    second.meter.measure('data', true);
    second.meter.count('data', 1, 1);
    assert.deepEqual(second.figures().map((f) => f.counted), [{ rawBytes: 1235, compressedBytes: 568 }], 'the running totals go on in the same process');
    const elsewhere = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log, now: c.now });
    assert.deepEqual(elsewhere.meter.counted('data'), { rawBytes: 0, compressedBytes: 0 }, 'a new process counts from zero');
    await elsewhere.close();
    second.retain([]);
    await second.close();
    const third = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log, now: c.now });
    assert.deepEqual(third.meter.volumes(), [], 'a dropped volume is gone from the file');
    await third.remove();
    assert.equal(existsSync(file), false);
  });

  it('starts over from a damaged file without failing', async () => {
    const d = await dir();
    const file = join(d, 'vpg-1.json');
    for (const text of ['{"version":1,', JSON.stringify({ version: 1, bucketSeconds: 60, volumes: { data: { since: 'yesterday', buckets: [] } } })]) {
      await writeFile(file, text);
      const r = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log });
      assert.deepEqual(r.meter.volumes(), []);
      r.meter.measure('data', true);
      await r.close();
      const again = await ChangeRateRecorder.open(file, { bucketSeconds: 60, log });
      assert.deepEqual(again.meter.volumes(), ['data'], 'the damaged file was replaced by a good one');
      await again.close();
    }
  });

  it('writes the file at a bucket rollover', async () => {
    const file = join(await dir(), 'vpg-1.json');
    const r = await ChangeRateRecorder.open(file, { bucketSeconds: 1, log });
    r.meter.measure('data', true);
    r.meter.count('data', 10, 5);
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(file)) {
        assert.ok(Date.now() < deadline, 'no write after a rollover');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const stored = JSON.parse(await readFile(file, 'utf8')) as { volumes: { data: { buckets: number[][] } } };
      assert.equal(stored.volumes.data.buckets.reduce((n, b) => n + (b[1] ?? 0), 0), 10);
    } finally {
      await r.remove();
    }
  });
});
