import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FLAG_PREV_SYNCED, FLAG_WRITE_START, writeHeader } from './format.ts';
import { readIndex, rewriteIndex } from './index-file.ts';
import { Journal, JournalCorruptError, JournalError, type JournalLogger } from './journal.ts';
import { checkpointRecord, opRecord, readAll, records, withDir } from './testkit.ts';

const SEG1 = '00000000000000000001.seg';

function capture(): { log: JournalLogger; lines: string[] } {
  const lines: string[] = [];
  const put = (_obj: object, msg: string): void => void lines.push(msg);
  return { log: { info: put, warn: put, error: put }, lines };
}

function corrupt(file: string, offset: number): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof JournalCorruptError, `a JournalCorruptError, got ${String(err)}`);
    assert.equal(err.code, 'Corrupt');
    assert.equal(err.file, file);
    assert.equal(err.offset, offset);
    assert.ok(err.message.includes(file) && err.message.includes(`offset ${offset}`), err.message);
    return true;
  };
}

async function flip(file: string, offset: number): Promise<void> {
  const buf = await readFile(file);
  buf[offset] = (buf[offset] ?? 0) ^ 0x40;
  await writeFile(file, buf);
}

/** Start offset of each record in a segment that starts at seq 1 and holds `recs`. */
function startsOf(recs: { bytes: Buffer }[]): number[] {
  const out: number[] = [];
  let pos = 0;
  for (const r of recs) {
    out.push(pos);
    pos += 16 + r.bytes.length;
  }
  out.push(pos);
  return out;
}

describe('Journal recovery', () => {
  it('cuts a torn last write at every cut point and keeps everything acknowledged', () =>
    withDir(async (dir) => {
      const first = records(1, 9);
      const last = [opRecord(10, 150), checkpointRecord(11, 'last')];
      const j = await Journal.open(dir);
      await j.append(first);
      await j.append(last);
      await j.close();
      const file = join(dir, SEG1);
      const whole = await readFile(file);
      const at = startsOf([...first, ...last]);
      const writeStart = at[9] ?? 0;
      for (let cut = writeStart; cut < whole.length; cut++) {
        await writeFile(file, whole.subarray(0, cut));
        const k = await Journal.open(dir);
        const keep = cut >= (at[11] ?? 0) ? 11 : cut >= (at[10] ?? 0) ? 10 : 9;
        assert.equal(k.durableSeq, keep, `cut at ${cut}`);
        const intactEnd = at[keep] ?? 0;
        assert.deepEqual(k.recovered, cut === intactEnd ? undefined : { cutBytes: cut - intactEnd, segment: SEG1 }, `cut at ${cut}`);
        assert.equal((await stat(file)).size, intactEnd);
        assert.equal(k.checkpoint(11), undefined, 'a cut checkpoint is not listed');
        assert.deepEqual(await readAll(k, 1, keep), [...first, ...last].slice(0, keep));
        await k.close();
      }
      // The cut checkpoint can be sent again and is indexed again.
      const k = await Journal.open(dir);
      await k.append(last);
      await k.close();
      const m = await Journal.open(dir);
      assert.equal(m.recovered, undefined);
      assert.equal(m.checkpoint(11)?.tag, 'last');
      await m.close();
    }));

  it('cuts a last write whose middle never reached the disk (later records of the same write intact)', () =>
    withDir(async (dir) => {
      const all = records(1, 10);
      const j = await Journal.open(dir);
      await j.append(all.slice(0, 5));
      await j.append(all.slice(5));
      await j.close();
      const at = startsOf(all);
      const file = join(dir, SEG1);
      const buf = await readFile(file);
      buf.fill(0, (at[6] ?? 0) + 16, at[7]); // record 7's bytes are zeros, 8..10 are intact
      await writeFile(file, buf);
      const { log, lines } = capture();
      const k = await Journal.open(dir, { log });
      assert.equal(k.durableSeq, 6);
      assert.deepEqual(k.recovered, { cutBytes: buf.length - (at[6] ?? 0), segment: SEG1 });
      assert.ok(lines.some((l) => l.includes('torn tail')), lines.join('\n'));
      await k.close();
    }));

  it('refuses to open when an acknowledged record is damaged (a later write follows it)', () =>
    withDir(async (dir) => {
      const all = records(1, 10);
      const j = await Journal.open(dir);
      await j.append(all.slice(0, 5));
      await j.append(all.slice(5));
      await j.close();
      const at = startsOf(all);
      const file = join(dir, SEG1);
      const original = await readFile(file);
      for (const offset of [(at[2] ?? 0) + 20, at[2] ?? 0, (at[4] ?? 0) + 5]) {
        await flip(file, offset);
        const record = offset >= (at[4] ?? 0) ? (at[4] ?? 0) : (at[2] ?? 0);
        await assert.rejects(Journal.open(dir), (err: unknown) => corrupt(file, record)(err) && /later commit/.test((err as Error).message));
        assert.deepEqual(await readFile(file), original.map((b, i) => (i === offset ? b ^ 0x40 : b)), 'open changed nothing');
        await writeFile(file, original);
      }
      const k = await Journal.open(dir);
      assert.equal(k.durableSeq, 10);
      await k.close();
    }));

  it('read() stops at a damaged record with the file and offset', () =>
    withDir(async (dir) => {
      const all = records(1, 10);
      const j = await Journal.open(dir);
      await j.append(all);
      const file = join(dir, SEG1);
      const at = startsOf(all);
      await flip(file, (at[3] ?? 0) + 30);
      const got: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const r of j.read(1, 10)) got.push(r.seq);
        })(),
        corrupt(file, at[3] ?? 0),
      );
      assert.deepEqual(got, [1, 2, 3]);
      await j.close();
    }));

  it('finds damage in a sealed segment on read, and at open once its sidecar is gone', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 40, () => false, 500));
      await j.close();
      const file = join(dir, SEG1);
      await flip(file, 16 + 516 + 100); // inside record 2
      const k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 40);
      await assert.rejects(readAll(k, 1, 5), corrupt(file, 516));
      assert.deepEqual(await readAll(k, 20, 40), records(20, 40, () => false, 500));
      await k.close();
      await unlink(join(dir, '00000000000000000001.off'));
      await assert.rejects(Journal.open(dir, { segmentBytes: 4096 }), (err: unknown) => corrupt(file, 516)(err) && /sealed segment/.test((err as Error).message));
    }));

  it('handles a crash around a segment rollover: an empty or torn new segment', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 7, () => false, 500));
      assert.equal(j.stats().segments, 1);
      await j.close();
      // The crash left the next segment created but empty.
      await writeFile(join(dir, '00000000000000000008.seg'), '');
      let k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 7);
      assert.equal(k.recovered, undefined);
      await k.close();
      // ... or with part of its first record.
      await writeFile(join(dir, '00000000000000000008.seg'), opRecord(8).bytes.subarray(0, 11));
      k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 7);
      assert.deepEqual(k.recovered, { cutBytes: 11, segment: '00000000000000000008.seg' });
      await k.append(records(8, 20, () => false, 500));
      await k.close();
      k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.deepEqual(await readAll(k, 1, 20), records(1, 20, () => false, 500));
      await k.close();
    }));

  it('rebuilds a missing or damaged checkpoint index from the segments, and cuts a torn one', () =>
    withDir(async (dir) => {
      const isCp = (s: number): boolean => s % 5 === 0;
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      for (let s = 1; s <= 60; s += 4) await j.append(records(s, s + 3, isCp, 400));
      await j.addTag(5, 'first');
      const expected = j.checkpoints().map((c) => c.seq);
      assert.equal(expected.length, 12);
      await j.close();
      const index = join(dir, 'index');

      const whole = await readFile(index);
      await truncate(index, whole.length - 3);
      let k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.deepEqual(k.checkpoints().map((c) => c.seq), expected);
      await k.close();

      await flip(index, 40);
      const { log, lines } = capture();
      k = await Journal.open(dir, { segmentBytes: 4096, log });
      assert.deepEqual(k.checkpoints().map((c) => c.seq), expected);
      assert.ok(lines.some((l) => l.includes('rebuilding')), lines.join('\n'));
      await k.addTag(10, 'after');
      await k.close();

      await unlink(index);
      k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.deepEqual(k.checkpoints().map((c) => c.seq), expected);
      assert.deepEqual(k.checkpoint(10)?.tags, [], 'tags live only in the index');
      await k.close();
      k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.deepEqual(k.checkpoints().map((c) => c.seq), expected);
      await k.close();
    }));

  it('refuses a journal with a segment missing', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 40, () => false, 500));
      await j.close();
      const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
      assert.ok(segs.length >= 4);
      await unlink(join(dir, segs[1] ?? ''));
      await assert.rejects(Journal.open(dir, { segmentBytes: 4096 }), (err: unknown) => err instanceof JournalError && err.code === 'Inconsistent' && /holds seqs 1\.\.7 but the next segment starts at 15/.test(err.message));
      await unlink(join(dir, segs[0] ?? ''));
      await assert.rejects(Journal.open(dir, { segmentBytes: 4096 }), (err: unknown) => err instanceof JournalError && err.code === 'Inconsistent' && /records 1\.\.14 are missing/.test(err.message));
    }));

  it('finishes a dropThrough that a crash interrupted', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 40, () => false, 500));
      await copyFile(join(dir, SEG1), join(dir, 'keep'));
      await j.dropThrough(20);
      await j.close();
      await copyFile(join(dir, 'keep'), join(dir, SEG1)); // the crash came before the delete
      await unlink(join(dir, 'keep'));
      const k = await Journal.open(dir, { segmentBytes: 4096 });
      assert.equal(k.durableSeq, 40);
      assert.equal(k.stats().firstSeq, 21);
      assert.ok(!(await readdir(dir)).includes(SEG1));
      assert.deepEqual(await readAll(k, 21, 40), records(21, 40, () => false, 500));
      await k.close();
    }));

  it('refuses an index entry of a type it does not know', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await j.append(records(1, 3));
      await j.close();
      const payload = Buffer.from([9, 1, 2, 3]);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(payload.length, 0);
      head.writeUInt32BE(crc32(payload, crc32(head.subarray(0, 4))), 4);
      await appendFile(join(dir, 'index'), Buffer.concat([head, payload]));
      await assert.rejects(Journal.open(dir), (err: unknown) => err instanceof JournalError && err.code === 'Format' && /unknown type 9 at offset 8/.test(err.message));
    }));

  it('tells a torn write from an acknowledged one by what later writes say', () =>
    withDir(async (dir) => {
      // Writes [1-2] [3-5] [6-8] [9-10], built by hand with chosen flags on each write's first record.
      const all = records(1, 10);
      const at = startsOf(all);
      const build = (flags: readonly number[]): Buffer => {
        const buf = Buffer.alloc(at[10] ?? 0);
        const starts = new Map([[1, flags[0]], [3, flags[1]], [6, flags[2]], [9, flags[3]]]);
        all.forEach((r, i) => {
          writeHeader(buf, at[i] ?? 0, r.bytes.length, r.seq, starts.get(r.seq) ?? 0, crc32(r.bytes));
          r.bytes.copy(buf, (at[i] ?? 0) + 16);
        });
        const d = (at[3] ?? 0) + 20;
        buf[d] = (buf[d] ?? 0) ^ 1; // damage record 4, in the write [3-5]
        return buf;
      };
      const file = join(dir, SEG1);
      const S = FLAG_WRITE_START;
      const P = FLAG_PREV_SYNCED;
      // The next write was issued while [3-5]'s fsync ran, and nothing later: [3-5] may be torn.
      await writeFile(file, build([S | P, S | P, S]).subarray(0, at[8]));
      const k = await Journal.open(dir);
      assert.equal(k.durableSeq, 3);
      assert.deepEqual(k.recovered, { cutBytes: (at[8] ?? 0) - (at[3] ?? 0), segment: SEG1 });
      await k.close();
      // The next write says [3-5] was fsync'd.
      await writeFile(file, build([S | P, S | P, S | P]).subarray(0, at[8]));
      await assert.rejects(Journal.open(dir), corrupt(file, at[3] ?? 0));
      // A second later write proves it too.
      await writeFile(file, build([S | P, S | P, S, S]));
      await assert.rejects(Journal.open(dir), corrupt(file, at[3] ?? 0));
    }));

  it('marks a write issued after the previous fsync returned', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir);
      await j.append(records(1, 2));
      await j.append(records(3, 5));
      await j.close();
      const buf = await readFile(join(dir, SEG1));
      const at = startsOf(records(1, 5));
      assert.equal(buf[14], FLAG_WRITE_START | FLAG_PREV_SYNCED);
      assert.equal(buf[(at[1] ?? 0) + 14], 0);
      assert.equal(buf[(at[2] ?? 0) + 14], FLAG_WRITE_START | FLAG_PREV_SYNCED);
    }));

  it('rescans the segments when an index entry does not match its segment', () =>
    withDir(async (dir) => {
      const isCp = (s: number): boolean => s % 6 === 0;
      const j = await Journal.open(dir, { segmentBytes: 4096 });
      await j.append(records(1, 40, isCp, 500));
      const expected = j.checkpoints().map((c) => c.seq);
      await j.close();
      const index = await readIndex(dir);
      assert.ok(index !== undefined && index.damage === undefined);
      const entries = index.entries.map((e) => (e.type === 'checkpoint' && e.seq === 6 ? { ...e, offset: e.offset + 16 } : e));
      await rewriteIndex(dir, entries, { syncs: 0 });
      const { log, lines } = capture();
      const k = await Journal.open(dir, { segmentBytes: 4096, log });
      assert.deepEqual(k.checkpoints().map((c) => c.seq), expected);
      assert.ok(lines.some((l) => l.includes('does not match')), lines.join('\n'));
      await k.close();
      const again = await readIndex(dir);
      assert.deepEqual(again?.entries.filter((e) => e.type === 'checkpoint').map((e) => e.seq), expected, 'the index was rewritten');
    }));
});
