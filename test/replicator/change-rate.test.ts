// A source's change rate, with two real VRA processes and a fault proxy between them: what is
// written after the initial sync is counted once, raw and as encoded for the wire, whatever the
// link does (a stalled buffer refuses pushes that a later pass sends again, a cut link resends what
// was buffered); the initial sync and the delta sync after a restart are not counted; a restarted
// VRA keeps the measurement; the peak is the busiest bucket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { Pair, STREAM, waitUntil, writeRandomFile } from './support/pair.ts';
import type { ChangeRate } from '../../src/vra/change-rate.ts';

const MiB = 1024 * 1024;
const BUCKET = 2;
/** Bytes of a changed file that are not its data: create, write headers, digest (well under this). */
const FILE_OVERHEAD = 1024;

interface SourceView { state: string; connected: boolean; reconnects: number; incompletePasses: number; volumes: { name: string; state: string; changeRate?: ChangeRate }[] }

/** Text that compresses well, as logs and documents do. */
function text(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = `${String(i).padStart(8, '0')} INFO request served path=/api/v1/orders/${i % 977} status=200 user=tenant-${i % 13}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

describe('change rate of a source volume', () => {
  let pair: Pair;
  let proxy: FaultProxy | undefined;
  let files = 0;

  before(async () => {
    pair = await Pair.start({
      volumes: ['files'],
      checkpointIntervalMs: 500,
      bufferBytes: 2 * MiB,
      stallMs: 300,
      sourceExtra: { changeRateBucketSeconds: BUCKET },
      // The initial sync has 12 MiB to send: none of it is a change.
      prepare: (p) => writeRandomFile(join(p.volume, 'existing.bin'), 12 * MiB),
      route: async (target) => {
        await proxy?.close();
        proxy = await startFaultProxy({ target, host: '127.0.0.1', port: 0 });
        return { host: '127.0.0.1', port: proxy.port };
      },
    });
  });
  after(async () => {
    await pair.close();
    await proxy?.close();
  });

  const status = async (): Promise<SourceView> => (await pair.source.ok<{ status: SourceView }>('GET', `/v1/streams/${STREAM}`)).status;
  const rate = async (): Promise<ChangeRate> => {
    const r = (await status()).volumes.find((v) => v.name === 'files')?.changeRate;
    assert.ok(r !== undefined, 'the volume has a change rate');
    return r;
  };
  /** Whole files appear at once (written beside, renamed in), so a pass never reads one half-written. */
  const put = async (data: Buffer): Promise<number> => {
    const name = `change-${++files}.bin`;
    const staged = join(pair.dir, 'staging', name);
    await mkdir(join(pair.dir, 'staging'), { recursive: true });
    await writeFile(staged, data);
    await rename(staged, join(pair.volume, name));
    return data.length;
  };
  /** Protected again and a checkpoint taken after the writes: everything written was pushed. */
  const settled = async (tag: string): Promise<ChangeRate> => {
    await waitUntil('the source to protect', async () => (await status()).state === 'protecting', 120_000);
    await pair.checkpoint(tag);
    return rate();
  };

  it('counts nothing of the initial sync: a zero rate, measured from then on', async () => {
    const r = await waitUntil('the volume to be measured', async () => {
      const s = await status();
      return s.state === 'protecting' ? s.volumes[0]?.changeRate : undefined;
    }, 120_000);
    const synced = await settled('synced');
    assert.equal(synced.rawBytes, 0, `the 12 MiB of the initial sync are not changes (${JSON.stringify(synced)})`);
    assert.equal(synced.compressedBytes, 0);
    assert.equal(synced.since, r.since);
    assert.ok(!Number.isNaN(Date.parse(synced.since)));
    assert.equal(synced.bucketSeconds, BUCKET);
    assert.equal(synced.windowSeconds, 7 * 24 * 3600);
    assert.equal(synced.peakRawBytesPerHour, 0);
  });

  let textBytes = 0;
  it('counts written text raw and much smaller as compressed, and random data about the same both ways', async () => {
    const before = await rate();
    textBytes = await put(text(8 * MiB));
    const afterText = await settled('text');
    const raw = afterText.rawBytes - before.rawBytes;
    const compressed = afterText.compressedBytes - before.compressedBytes;
    assert.ok(raw >= textBytes && raw <= textBytes + FILE_OVERHEAD, `raw ${raw} for ${textBytes} bytes of text written`);
    assert.ok(compressed < raw / 4, `text: ${compressed} compressed of ${raw} raw`);

    const random = await put(randomBytes(8 * MiB));
    const afterRandom = await settled('random');
    const raw2 = afterRandom.rawBytes - afterText.rawBytes;
    const compressed2 = afterRandom.compressedBytes - afterText.compressedBytes;
    assert.ok(raw2 >= random && raw2 <= random + FILE_OVERHEAD, `raw ${raw2} for ${random} random bytes written`);
    assert.ok(Math.abs(compressed2 - raw2) <= FILE_OVERHEAD, `random: ${compressed2} compressed of ${raw2} raw`);
  });

  it('gives the busiest bucket as the peak, above the average once quiet buckets follow', async () => {
    const burst = await rate();
    const r = await waitUntil('quiet buckets after the writes', async () => {
      const now = await rate();
      return now.measuredSeconds >= burst.measuredSeconds + 3 * BUCKET ? now : undefined;
    });
    assert.equal(r.rawBytes, burst.rawBytes, 'nothing was written meanwhile');
    const average = (r.rawBytes * 3600) / r.measuredSeconds;
    assert.ok(Math.abs(r.averageRawBytesPerHour - average) <= average * 0.1, `average ${r.averageRawBytesPerHour} of ${r.rawBytes} bytes in ${r.measuredSeconds} s`);
    assert.ok(r.peakRawBytesPerHour > r.averageRawBytesPerHour, `peak ${r.peakRawBytesPerHour} above average ${r.averageRawBytesPerHour}`);
    assert.ok(r.peakCompressedBytesPerHour > r.averageCompressedBytesPerHour);
    // The 8 MiB of text went by in at most two buckets: one of them held half of it or more.
    assert.ok(r.peakRawBytesPerHour >= ((textBytes / 2) * 3600) / BUCKET, `peak ${r.peakRawBytesPerHour}`);
  });

  it('exposes the counts and rates as metrics', async () => {
    const r = await rate();
    const metrics = await (await fetch(`${pair.source.healthUrl}/metrics`)).text();
    const labels = `stream="${STREAM}",namespace="acme-prod",vpg="web",volume="files"`;
    const value = (name: string, extra: string): number => {
      const m = new RegExp(`^${name}\\{${labels}${extra}\\} (\\S+)$`, 'm').exec(metrics);
      assert.ok(m?.[1] !== undefined, `${name}{${labels}${extra}} in\n${metrics}`);
      return Number(m[1]);
    };
    assert.equal(value('zcsp_vra_change_bytes_total', ',size="raw"'), r.rawBytes);
    assert.equal(value('zcsp_vra_change_bytes_total', ',size="compressed"'), r.compressedBytes);
    assert.ok(value('zcsp_vra_change_average_bytes_per_hour', ',size="raw"') > 0);
    assert.ok(value('zcsp_vra_change_peak_bytes_per_hour', ',size="compressed"') > 0);
    assert.ok(value('zcsp_vra_change_measured_seconds', '') >= r.measuredSeconds);
  });

  it('a restarted VRA keeps the measurement; what changed while it was down comes by delta sync, not counted', async () => {
    const before = await rate();
    await pair.source.stop();
    await writeRandomFile(join(pair.volume, 'while-down.bin'), 2 * MiB);
    await pair.source.start();
    const resumed = await rate();
    assert.equal(resumed.since, before.since);
    assert.equal(resumed.rawBytes, before.rawBytes, 'the window was kept');
    assert.ok(resumed.measuredSeconds >= before.measuredSeconds);
    const synced = await settled('after-restart');
    assert.equal(synced.rawBytes, before.rawBytes, 'the delta sync is not a change');
    const more = await put(randomBytes(MiB));
    const counted = await settled('counting-again');
    const raw = counted.rawBytes - before.rawBytes;
    assert.ok(raw >= more && raw <= more + FILE_OVERHEAD, `raw ${raw} for ${more} bytes written after the restart`);
  });

  it('counts once what a stalled or cut link made it push again', async () => {
    const link = proxy;
    assert.ok(link !== undefined);
    const before = await rate();
    const start = await status();
    let written = 0;
    // The link stalls: the 2 MiB buffer fills, pushes are refused, passes are cut short.
    link.stall('up');
    try {
      await waitUntil('passes cut short by the full buffer', async () => {
        written += await put(randomBytes(MiB));
        const s = await status();
        return s.incompletePasses > start.incompletePasses ? s : undefined;
      });
      for (let i = 0; i < 4; i++) written += await put(randomBytes(MiB));
    } finally {
      link.resume('up');
    }
    // Then it is cut (what was buffered is sent again) and goes down for a while.
    link.cut();
    for (let i = 0; i < 4; i++) written += await put(randomBytes(MiB));
    link.down();
    try {
      await waitUntil('the link to be down', async () => !(await status()).connected);
      for (let i = 0; i < 4; i++) written += await put(randomBytes(MiB));
    } finally {
      link.up();
    }
    const after = await settled('after-outage');
    const raw = after.rawBytes - before.rawBytes;
    const s = await status();
    assert.ok(s.reconnects > start.reconnects, 'the link was cut');
    assert.ok(s.incompletePasses > start.incompletePasses, 'pushes were refused');
    assert.ok(raw >= written && raw <= written + files * FILE_OVERHEAD, `raw ${raw} for ${written} bytes written once (a second count would add 1 MiB or more)`);
  });
});
