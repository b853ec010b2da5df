// The link between the VRAs goes down under load. The source must stay inside its memory bound
// (the record buffer; past it, passes stop and the difference waits on disk as dirty regions),
// the last checkpoint must stay recoverable on the recovery side throughout, and when the link
// returns the source catches up (bitmap sync) and nothing written meanwhile is lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { Pair, waitUntil, type SourceStatusView } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { diffSnapshots } from './support/snapshot.ts';
import { fsWorkload } from './support/workload.ts';

const MiB = 1024 * 1024;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

describe('link: cut the link between the VRAs under load', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let pair: Pair;
  let proxy: FaultProxy | undefined;

  before(async () => {
    pair = await Pair.start({
      volumes: ['files'],
      checkpointIntervalMs: 500,
      bufferBytes: 2 * MiB,
      stallMs: 300,
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

  it(`stays bounded while down, catches up by bitmap sync, loses nothing (seed ${rnd.seed})`, async () => {
    await fsWorkload(pair.volume, rnd, 40);
    const lastGood = await pair.checkpoint('before-outage');
    const beforeOutage = pair.snapshot();
    const link = proxy;
    assert.ok(link !== undefined);
    const rssBefore = rssMiB(pair.source.pid);

    // First the link stalls (up, but nothing gets through: a saturated WAN): the buffer fills to
    // its bound, pushes give up after stallMs, passes are cut short.
    link.stall('up');
    let stalled: SourceStatusView;
    try {
      stalled = await waitUntil('passes cut short by the full buffer', async () => {
        await fsWorkload(pair.volume, rnd, 10, { maxFileBytes: 2 * MiB });
        const s = await pair.sourceStatus();
        assert.ok(s.bufferedBytes <= s.bufferLimitBytes, `buffer ${s.bufferedBytes} within ${s.bufferLimitBytes}`);
        return s.incompletePasses > 0 && s.state === 'bitmap-sync' ? s : undefined;
      });
    } finally {
      link.resume('up');
    }
    // Then it goes down altogether.
    link.down();
    try {
      await outage();
    } finally {
      link.up();
    }
    await waitUntil('the source to catch up', async () => (await pair.sourceStatus()).state === 'protecting', 120_000);
    const seq = await pair.checkpoint('after-outage');
    const expected = pair.snapshot();
    const got = await pair.materialise(seq);
    assert.deepEqual(diffSnapshots(expected.files, got.files), [], `seed ${rnd.seed}`);
    const status = await pair.sourceStatus();
    assert.ok(status.reconnects >= 1);

    async function outage(): Promise<void> {
    // Far more than the buffer is written while the link is down.
    let written = 0;
    let maxBuffered = 0;
    let limit = 0;
    let sawBitmap = false;
    let maxRss = rssBefore;
    while (written < 120 * MiB) {
      written += await fsWorkload(pair.volume, rnd, 20, { maxFileBytes: 2 * MiB });
      const s = await pair.sourceStatus();
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
      limit = s.bufferLimitBytes;
      if (s.state === 'bitmap-sync') sawBitmap = true;
      maxRss = Math.max(maxRss, rssMiB(pair.source.pid));
    }
    assert.ok(maxBuffered <= limit, `buffer ${maxBuffered} within its limit ${limit}`);
    // Memory follows the buffer, not the data written: 120 MiB went by and the process grew by
    // a fraction of it (heap noise included).
    assert.ok(maxRss - rssBefore < 60, `source RSS went from ${rssBefore.toFixed(0)} to ${maxRss.toFixed(0)} MiB while ${(written / MiB).toFixed(0)} MiB were written`);
    assert.ok(sawBitmap, 'the source said bitmap-sync while the link was down');
    const down = await pair.sourceStatus();
    assert.equal(down.connected, false);

    // Meanwhile the recovery side still recovers the last checkpoint it has, exactly.
    const during = await pair.materialise(lastGood);
    assert.deepEqual(diffSnapshots(beforeOutage.files, during.files), []);
    process.stdout.write(`# link test: ${(written / MiB).toFixed(0)} MiB written while down; buffer peak ${(Math.max(maxBuffered, stalled.bufferedBytes) / MiB).toFixed(2)} of ${(limit / MiB).toFixed(0)} MiB when stalled (${stalled.incompletePasses} passes cut short); source RSS ${rssBefore.toFixed(0)} → ${maxRss.toFixed(0)} MiB\n`);
    }
  });

  it('a link that flaps (cut every few hundred ms) under load still converges, nothing lost', async () => {
    const link = proxy;
    assert.ok(link !== undefined);
    for (let i = 0; i < 8; i++) {
      await fsWorkload(pair.volume, rnd, 10, { maxFileBytes: 500_000 });
      link.cut();
      await new Promise((r) => setTimeout(r, 100 + rnd.int(300)));
    }
    const seq = await pair.checkpoint('after-flapping');
    const expected = pair.snapshot();
    const got = await pair.materialise(seq);
    assert.deepEqual(diffSnapshots(expected.files, got.files), [], `seed ${rnd.seed}`);
  });
});
