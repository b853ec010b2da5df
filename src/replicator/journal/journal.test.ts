import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Journal, JournalError, MAX_RECORD_BYTES } from './journal.ts';
import { checkpointRecord, opRecord, readAll, records, withDir } from './testkit.ts';

const isCp = (s: number): boolean => s % 10 === 0;

function code(c: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof JournalError, `a JournalError, got ${String(err)}`);
    assert.equal(err.code, c, err.message);
    return true;
  };
}

describe('Journal', () => {
  it('round-trips records, checkpoints and byte counts, before and after reopening', () =>
    withDir(async (dir) => {
      const all = records(1, 95, isCp);
      const j = await Journal.open(dir);
      assert.equal(j.durableSeq, 0);
      assert.equal(j.lastCheckpoint(), undefined);
      await j.append(all.slice(0, 40));
      await j.append(all.slice(40, 41));
      await j.append(all.slice(41));
      assert.equal(j.durableSeq, 95);
      assert.deepEqual(await readAll(j, 1, 95), all);
      assert.deepEqual(await readAll(j, 37, 52), all.slice(36, 52));
      assert.deepEqual(await readAll(j, 5, 4), []);
      const cps = j.checkpoints();
      assert.deepEqual(cps.map((c) => c.seq), [10, 20, 30, 40, 50, 60, 70, 80, 90]);
      assert.deepEqual(j.checkpoint(20), { seq: 20, time: 1_764_000_000_020, tag: '', tags: [], volumes: [{ volume: 'data', digest: Buffer.alloc(32, 20) }] });
      assert.equal(j.checkpoint(21), undefined);
      assert.deepEqual(j.lastCheckpoint(), { seq: 90, time: 1_764_000_000_090 });
      const size = (from: number, to: number): number => all.slice(from - 1, to).reduce((n, r) => n + 16 + r.bytes.length, 0);
      assert.equal(j.bytesBetween(1, 95), size(1, 95));
      assert.equal(j.bytesBetween(11, 30), size(11, 30));
      assert.equal(j.bytesBetween(30, 29), 0);
      const st = j.stats();
      assert.equal(st.bytes, size(1, 95));
      assert.equal(st.segments, 1);
      assert.equal(st.firstSeq, 1);
      assert.equal(st.oldest?.seq, 10);
      assert.equal(st.newest?.seq, 90);
      await j.close();

      const k = await Journal.open(dir);
      assert.equal(k.recovered, undefined);
      assert.equal(k.durableSeq, 95);
      assert.deepEqual(k.checkpoints(), cps);
      assert.deepEqual(await readAll(k, 1, 95), all);
      await k.append([opRecord(96)]);
      assert.equal(k.durableSeq, 96);
      await k.close();
    }));

  it('keeps nothing of an append’s buffers once it settles: they may be used again at once', () =>
    withDir(async (dir) => {
      const all = records(1, 30, isCp);
      const j = await Journal.open(dir);
      const lent = all.map((r) => ({ seq: r.seq, bytes: Buffer.from(r.bytes) }));
      await j.append(lent);
      for (const r of lent) r.bytes.fill(0xee);
      assert.deepEqual(await readAll(j, 1, 30), all);
      assert.deepEqual(j.checkpoint(20)?.volumes, [{ volume: 'data', digest: Buffer.alloc(32, 20) }]);
      await j.addTag(20, 'kept');
      await j.close();
      const k = await Journal.open(dir);
      assert.deepEqual(k.checkpoint(20)?.volumes, [{ volume: 'data', digest: Buffer.alloc(32, 20) }]);
      assert.deepEqual(k.checkpoint(20)?.tags, ['kept']);
      await k.close();
    }));

  it('stores a CRC the caller worked out as it is: a right one reads back, a wrong one is damage', () =>
    withDir(async (dir) => {
      const all = records(1, 20, isCp);
      const j = await Journal.open(dir);
      await j.append(all.slice(0, 10).map((r) => ({ ...r, crc: crc32(r.bytes) })));
      assert.deepEqual(await readAll(j, 1, 10), all.slice(0, 10));
      const eleventh = all[10];
      assert.ok(eleventh);
      await j.append([{ ...eleventh, crc: (crc32(eleventh.bytes) ^ 1) >>> 0 }]);
      await assert.rejects(readAll(j, 11, 11), (err: unknown) => code('Corrupt')(err) && /CRC mismatch/.test((err as Error).message));
      for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) {
        await assert.rejects(j.append([{ seq: 12, bytes: all[11]?.bytes ?? Buffer.alloc(1), crc: bad }]), (err: unknown) => code('BadArgument')(err) && /record seq 12 crc .* is not a CRC-32/.test((err as Error).message));
      }
      assert.equal(j.durableSeq, 11);
      await j.close();
    }));

  it('coalesces concurrent appends into few writes and fsyncs', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      const before = j.stats().syncs;
      const all = records(1, 300, isCp);
      await Promise.all(all.map((r) => j.append([r])));
      const syncs = j.stats().syncs - before;
      // 300 separate commits would be 300+ fsyncs; group commit needs a handful.
      assert.ok(syncs <= 10, `${syncs} fsyncs for 300 concurrent appends`);
      assert.equal(j.durableSeq, 300);
      assert.deepEqual(await readAll(j, 1, 300), all);
      await j.close();
    }));

  it('resolves each append only once its records are durable', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      const seen: number[] = [];
      await Promise.all(
        records(1, 50).map(async (r) => {
          await j.append([r]);
          seen.push(j.durableSeq >= r.seq ? r.seq : -r.seq);
        }),
      );
      assert.ok(seen.every((s) => s > 0), `resolved before durable: ${seen.filter((s) => s < 0).join(',')}`);
      await j.close();
    }));

  it('skips resent records and refuses gaps naming expected and got', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await j.append(records(1, 5));
      await j.append(records(3, 8)); // a reconnecting sender resends 3..5
      await j.append(records(2, 4)); // all already there
      assert.deepEqual(await readAll(j, 1, 8), records(1, 8));
      await assert.rejects(j.append(records(10, 11)), (err: unknown) => code('SeqGap')(err) && /expected seq 9, got 10/.test((err as Error).message));
      await assert.rejects(j.append([opRecord(9), opRecord(11)]), (err: unknown) => code('SeqGap')(err) && /expected seq 10, got 11/.test((err as Error).message));
      assert.equal(j.durableSeq, 8, 'a refused batch adds nothing');
      await assert.rejects(j.append([opRecord(0)]), code('BadArgument'));
      await assert.rejects(j.append([opRecord(1.5)]), code('BadArgument'));
      await j.append([]);
      await j.append(records(9, 9));
      assert.equal(j.durableSeq, 9);
      await j.close();
      await assert.rejects(j.append(records(10, 10)), code('Closed'));
    }));

  it('refuses bad records with errors naming the seq', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await assert.rejects(j.append([{ seq: 1, bytes: Buffer.alloc(MAX_RECORD_BYTES + 1, 4) }]), (err: unknown) => code('TooLarge')(err) && /seq 1 is 8388609 bytes/.test((err as Error).message));
      await assert.rejects(j.append([{ seq: 1, bytes: Buffer.alloc(0) }]), (err: unknown) => code('BadRecord')(err) && /seq 1 is empty/.test((err as Error).message));
      await assert.rejects(j.append([{ seq: 1, bytes: Buffer.from([99, 0]) }]), (err: unknown) => code('BadRecord')(err) && /unknown record type 99/.test((err as Error).message));
      const cp = checkpointRecord(1).bytes;
      await assert.rejects(j.append([{ seq: 1, bytes: cp.subarray(0, cp.length - 3) }]), (err: unknown) => code('BadRecord')(err) && /seq 1: record ends inside/.test((err as Error).message));
      await j.append([{ seq: 1, bytes: Buffer.alloc(MAX_RECORD_BYTES, 4) }]);
      assert.equal((await readAll(j, 1, 1))[0]?.bytes.length, MAX_RECORD_BYTES);
      await j.close();
    }));

  it('read and bytesBetween refuse seqs not in the journal', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await j.append(records(1, 10));
      await assert.rejects(readAll(j, 5, 11), (err: unknown) => code('NotDurable')(err) && /seq 11 .*durable through 10/.test((err as Error).message));
      assert.throws(() => j.bytesBetween(1, 11), code('NotDurable'));
      assert.throws(() => j.bytesBetween(-1, 3), code('BadArgument'));
      await assert.rejects(readAll(j, 0.5, 3), code('BadArgument'));
      await j.close();
    }));

  it('rolls over segments and reads, counts and reopens across them', () =>
    withDir(async (dir) => {
      const all = records(1, 200, isCp, 500);
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      for (let i = 0; i < all.length; i += 7) await j.append(all.slice(i, i + 7));
      const segs = j.stats().segments;
      assert.ok(segs >= 25, `${segs} segments`);
      assert.deepEqual(await readAll(j, 1, 200), all);
      assert.deepEqual(await readAll(j, 99, 143), all.slice(98, 143));
      const expected = all.slice(2, 177).reduce((n, r) => n + 16 + r.bytes.length, 0);
      assert.equal(j.bytesBetween(3, 177), expected);
      await j.close();
      const names = await readdir(dir);
      assert.equal(names.filter((n) => n.endsWith('.off')).length, segs - 1, 'a sidecar per sealed segment');
      // Without the sidecars, open scans the sealed segments instead.
      await writeFile(join(dir, names.find((n) => n.endsWith('.off')) ?? ''), 'garbage');
      const k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 200);
      assert.equal(k.stats().segments, segs);
      assert.equal(k.checkpoints().length, 20);
      assert.deepEqual(await readAll(k, 1, 200), all);
      assert.equal(k.bytesBetween(3, 177), expected);
      await k.close();
    }));

  it('reads transiently through one buffer: each record right when it comes, runs and segments alike', () =>
    withDir(async (dir) => {
      // Sizes around the 1 MiB run: many small records share a run, larger ones take a run each
      // and make the buffer grow.
      const sizes = [100, 300_000, 700_000, 1_100_000, 50, 2_000_000, 10, 900_000];
      const all = sizes.map((size, i) => ({ seq: i + 1, bytes: Buffer.alloc(size, i + 1) }));
      const j = await Journal.open(dir, { segmentBytes: 3_000_000 });
      for (const r of all) await j.append([r]);
      assert.ok(j.stats().segments >= 2);
      const seen: { seq: number; bytes: Buffer }[] = [];
      const buffers = new Set<ArrayBufferLike>();
      for await (const r of j.read(1, all.length, { transient: true })) {
        seen.push({ seq: r.seq, bytes: Buffer.from(r.bytes) });
        buffers.add(r.bytes.buffer);
      }
      assert.deepEqual(seen, all);
      // Runs of at most 1 MiB, or one larger record: 1–3, 4, 5, 6, 7–8. One buffer for each time
      // it had to grow (for runs 1–3, 4 and 6), not one per run.
      assert.equal(buffers.size, 3);
      // Kept past their turn, transient records are overwritten by later ones: the reason for the
      // contract. Without `transient`, each run has a buffer of its own and records may be kept.
      const views: { seq: number; bytes: Buffer }[] = [];
      for await (const r of j.read(1, all.length, { transient: true })) views.push(r);
      assert.notDeepEqual(views, all);
      assert.deepEqual(await readAll(j, 1, all.length), all);
      await j.close();
    }));

  it('puts a record larger than a segment in a segment of its own', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 100 });
      await j.append(records(1, 5, () => false, 500));
      await j.append(records(6, 6, () => false, 10));
      assert.equal(j.stats().segments, 6);
      await j.close();
      const k = await Journal.open(dir, { segmentBytes: 100 });
      assert.deepEqual(await readAll(k, 1, 6), [...records(1, 5, () => false, 500), ...records(6, 6, () => false, 10)]);
      await k.close();
    }));

  it('drops through a seq, durably, and continues the numbering after dropping everything', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 100, isCp, 500));
      const segs = j.stats().segments;
      await j.dropThrough(45);
      assert.ok(j.stats().segments < segs, 'segments holding only dropped records are gone');
      assert.equal(j.stats().firstSeq, 46);
      assert.deepEqual(j.checkpoints().map((c) => c.seq), [50, 60, 70, 80, 90, 100]);
      await assert.rejects(readAll(j, 45, 50), (err: unknown) => code('Dropped')(err) && /seq 45 was dropped/.test((err as Error).message));
      assert.throws(() => j.bytesBetween(40, 50), code('Dropped'));
      assert.deepEqual(await readAll(j, 46, 100), records(46, 100, isCp, 500));
      await assert.rejects(j.dropThrough(101), code('NotDurable'));
      await j.dropThrough(30); // already dropped: nothing to do
      await j.close();

      const k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 100);
      assert.equal(k.stats().firstSeq, 46);
      assert.deepEqual(k.checkpoints().map((c) => c.seq), [50, 60, 70, 80, 90, 100]);
      await assert.rejects(readAll(k, 40, 50), code('Dropped'));
      await k.dropThrough(100);
      assert.equal(k.stats().segments, 0);
      assert.equal(k.checkpoints().length, 0);
      assert.deepEqual(k.lastCheckpoint(), { seq: 100, time: 1_764_000_000_100 });
      await k.close();

      const m = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(m.durableSeq, 100);
      assert.deepEqual(m.lastCheckpoint(), { seq: 100, time: 1_764_000_000_100 });
      await assert.rejects(m.append(records(102, 102)), code('SeqGap'));
      await m.append(records(101, 110));
      assert.deepEqual(await readAll(m, 101, 110), records(101, 110));
      await m.close();
      const n = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(n.durableSeq, 110);
      assert.equal(n.stats().firstSeq, 101);
      await n.close();
    }));

  it('keeps tags added later, durably, and refuses unknown checkpoints and bad tags', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await j.append([...records(1, 9), checkpointRecord(10, 'nightly'), ...records(11, 19), checkpointRecord(20)]);
      await Promise.all([j.addTag(10, 'before-upgrade'), j.addTag(20, 'tested at 2026-11-26T10:00Z'), j.addTag(10, 'keep')]);
      await j.addTag(10, 'keep'); // again: no duplicate
      assert.deepEqual(j.checkpoint(10)?.tags, ['before-upgrade', 'keep']);
      assert.equal(j.checkpoint(10)?.tag, 'nightly');
      await assert.rejects(j.addTag(11, 'x'), (err: unknown) => code('UnknownCheckpoint')(err) && /seq 11/.test((err as Error).message));
      await assert.rejects(j.addTag(10, ''), code('BadArgument'));
      await assert.rejects(j.addTag(10, 'x'.repeat(254)), code('BadArgument'));
      await j.close();
      const k = await Journal.open(dir);
      assert.deepEqual(k.checkpoint(10)?.tags, ['before-upgrade', 'keep']);
      assert.deepEqual(k.checkpoint(20)?.tags, ['tested at 2026-11-26T10:00Z']);
      await k.dropThrough(15);
      await k.close();
      const m = await Journal.open(dir);
      assert.equal(m.checkpoint(10), undefined);
      assert.deepEqual(m.checkpoint(20)?.tags, ['tested at 2026-11-26T10:00Z']);
      await m.close();
    }));

  it('reads while appends continue', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 64 * 1024 });
      await j.append(records(1, 50));
      const writer = (async () => {
        for (let s = 51; s <= 400; s += 10) await j.append(records(s, s + 9));
      })();
      let seen = 0;
      while (seen < 400) {
        const upTo = j.durableSeq;
        const got = await readAll(j, seen + 1, upTo);
        assert.deepEqual(got, records(seen + 1, upTo));
        seen = upTo;
        await new Promise((r) => setImmediate(r));
      }
      await writer;
      await j.close();
    }));

  it('refuses a second open of the same folder and bad options', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await assert.rejects(Journal.open(dir), code('InUse'));
      await j.close();
      await assert.rejects(Journal.open(dir, { segmentBytes: 0 }), code('BadArgument'));
      const k = await Journal.open(dir);
      await k.close();
    }));

  it('is broken after a failed write and acknowledges nothing more', () =>
    withDir(async (dir) => {
      // The first segment is a link to /dev/full: every write fails with ENOSPC.
      await symlink('/dev/full', join(dir, '00000000000000000001.seg'));
      const j = await Journal.open(dir);
      await assert.rejects(j.append(records(1, 3)), (err: unknown) => code('Broken')(err) && /ENOSPC/.test((err as Error).message));
      assert.equal(j.durableSeq, 0);
      await assert.rejects(j.append(records(1, 3)), code('Broken'));
      await assert.rejects(j.addTag(1, 'x'), code('Broken'));
      await j.close();
    }));

  it('is broken when it cannot create its next segment', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await writeFile(join(dir, '00000000000000000001.seg'), '');
      await assert.rejects(j.append(records(1, 1)), (err: unknown) => code('Broken')(err) && /EEXIST/.test((err as Error).message));
      await assert.rejects(j.append(records(1, 1)), code('Broken'));
      await j.close();
    }));

  it('a read that a dropThrough overtakes fails with Dropped', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 60, () => false, 500));
      const got: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const r of j.read(1, 60)) {
            got.push(r.seq);
            if (r.seq === 1) await j.dropThrough(50);
          }
        })(),
        (err: unknown) => code('Dropped')(err) && /dropped/.test((err as Error).message),
      );
      assert.ok(got.length < 50, `read ${got.length} records past the drop`);
      assert.deepEqual(await readAll(j, 51, 60), records(51, 60, () => false, 500));
      await j.close();
    }));
});
