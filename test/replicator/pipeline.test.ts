// The data plane end to end with real processes: a source VRA capturing a filesystem volume and a
// block image, a real ZCC proxy in the middle, a target VRA journaling. Random workloads run
// between tagged checkpoints; every checkpoint, materialised, equals the source as it was then.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pair, STREAM, waitUntil, type SourceSnapshot } from './support/pair.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { diffSnapshots } from './support/snapshot.ts';
import { blockWorkload, fsWorkload } from './support/workload.ts';

describe('replication between two VRA processes, through a ZCC', () => {
  const rnd = new Random(seedFromEnv('ZCSP_TEST_SEED'));
  let pair: Pair;
  const taken = new Map<number, SourceSnapshot>();

  before(async () => {
    pair = await Pair.start({ viaZcc: true, checkpointIntervalMs: 700 });
  });
  after(async () => {
    await pair.close();
  });

  it(`materialises every tagged checkpoint as the source was (seed ${rnd.seed})`, async () => {
    for (let round = 1; round <= 12; round++) {
      await fsWorkload(pair.volume, rnd, 25);
      await blockWorkload(pair.image, rnd, 15);
      const seq = await pair.checkpoint(`round-${round}`);
      taken.set(seq, pair.snapshot());
    }
    // Checkpoints in random order, each into its own folder.
    const seqs = [...taken.keys()].sort(() => rnd.next() - 0.5);
    for (const seq of seqs) {
      const expected = taken.get(seq);
      assert.ok(expected !== undefined);
      const got = await pair.materialise(seq);
      const diff = diffSnapshots(expected.files, got.files);
      assert.deepEqual(diff, [], `checkpoint ${seq} (seed ${rnd.seed}): files differ`);
      assert.deepEqual(got.disk, expected.disk, `checkpoint ${seq} (seed ${rnd.seed}): the image differs`);
      const verified = await pair.target.ok<{ ok: boolean }>('POST', `/v1/streams/${STREAM}/verify`, { checkpoint: seq, targets: got.paths });
      assert.equal(verified.ok, true, JSON.stringify(verified));
    }
  });

  it('lists the checkpoints with their tags, and tags one afterwards', async () => {
    const { checkpoints } = await pair.target.ok<{ checkpoints: { seq: number; tag: string; tags: string[] }[] }>('GET', `/v1/streams/${STREAM}/checkpoints`);
    for (const [seq] of taken) assert.ok(checkpoints.some((c) => c.seq === seq && c.tag.startsWith('round-')), `checkpoint ${seq} listed with its tag`);
    const first = [...taken.keys()][0] ?? 0;
    const tagged = await pair.target.ok<{ tags: string[] }>('POST', `/v1/streams/${STREAM}/checkpoints/${first}/tags`, { tag: 'tested at 2026-11-26T10:00:00Z' });
    assert.deepEqual(tagged.tags, ['tested at 2026-11-26T10:00:00Z']);
  });

  it('reports its figures: protecting, a small RPO, bytes shipped and compressed, the journal', async () => {
    const status = await waitUntil('the source protecting', async () => {
      const s = await pair.sourceStatus();
      return s.state === 'protecting' ? s : undefined;
    });
    assert.equal(status.connected, true);
    assert.ok(status.rpoSeconds !== undefined && status.rpoSeconds < 60, `rpo ${String(status.rpoSeconds)}`);
    assert.ok(status.wireBytes > 0 && status.wireBytes < status.rawBytes, `compression: ${status.wireBytes} wire of ${status.rawBytes} raw`);
    assert.ok(status.bufferedBytes <= status.bufferLimitBytes);
    const target = await pair.targetStatus();
    assert.ok((target['journalBytes'] as number) > 0);
    assert.ok((target['checkpoints'] as number) >= taken.size);
    const metrics = await (await fetch(`${pair.source.healthUrl}/metrics`)).text();
    assert.match(metrics, /zcsp_vra_rpo_seconds\{stream="vpg-web-0001",namespace="acme-prod",vpg="web"\} \d/);
    assert.match(metrics, /zcsp_vra_sync_state\{stream="vpg-web-0001",namespace="acme-prod",vpg="web",state="protecting"\} 1/);
    // What the stream sent, as counters that follow its running totals.
    assert.match(metrics, /^# TYPE zcsp_vra_sent_wire_bytes_total counter$/m);
    const sent = (name: string): number => Number(new RegExp(`^${name}\\{stream="vpg-web-0001",namespace="acme-prod",vpg="web"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    assert.ok(sent('zcsp_vra_sent_wire_bytes_total') > 0);
    assert.ok(sent('zcsp_vra_sent_raw_bytes_total') > 0);
    const targetMetrics = await (await fetch(`${pair.target.healthUrl}/metrics`)).text();
    assert.match(targetMetrics, /zcsp_vra_journal_bytes\{stream="vpg-web-0001",namespace="acme-prod",vpg="web"\} [1-9]/);
  });

  it('resumes after the source VRA restarts: a delta sync sends only what changed', async () => {
    await pair.source.stop();
    await fsWorkload(pair.volume, rnd, 10);
    await pair.source.start();
    const seq = await pair.checkpoint('after-restart');
    const expected = pair.snapshot();
    const status = await pair.sourceStatus();
    // A fresh process counts from zero: what it sent is the difference, far below the volume.
    const volumeBytes = [...expected.files.values()].reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0) + expected.disk.size;
    assert.ok(status.rawBytes < volumeBytes / 2, `sent ${status.rawBytes} raw bytes for a ${volumeBytes}-byte volume`);
    const got = await pair.materialise(seq);
    assert.deepEqual(diffSnapshots(expected.files, got.files), []);
    assert.deepEqual(got.disk, expected.disk);
  });
});
