import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, open as openFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { JournalCorruptError, JournalError, type JournalLogger } from './journal.ts';
import { Journal } from './journal.ts';
import { HEADER_BYTES, segmentName } from './format.ts';
import { readAll, records, withDir } from './testkit.ts';

// Records of 500 bytes in segments of 4 KiB: 7 records a segment.
const SEG = 4096;
const SIZE = 500;
const recs = (from: number, to: number): { seq: number; bytes: Buffer }[] => records(from, to, (s) => s % 10 === 0, SIZE);

function capture(): { log: JournalLogger; lines: string[] } {
  const lines: string[] = [];
  const put = (_o: object, msg?: string): void => void lines.push(msg ?? '');
  return { log: { info: put, warn: put, error: put }, lines };
}

async function files(dir: string, ext: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(ext)).sort();
}

async function inode(path: string): Promise<number> {
  return (await stat(path)).ino;
}

/** A journal of seqs 1..100 that dropped through 60: two spares, the rest of the dropped segments deleted. */
async function withSpares(dir: string): Promise<Journal> {
  const j = await Journal.open(dir, { segmentBytes: SEG });
  await j.append(recs(1, 100));
  await j.dropThrough(60);
  return j;
}

describe('Journal spare segments', () => {
  it('keeps dropped segments as spares up to the limit and writes new segments over them', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      const spares = await files(dir, '.spare');
      assert.equal(spares.length, 2);
      assert.equal(j.stats().spares, 2);
      assert.ok((await files(dir, '.seg')).every((n) => Number(n.slice(0, 20)) > 50), 'no segment of dropped records only is left');
      const inodes = new Set(await Promise.all(spares.map((n) => inode(join(dir, n)))));

      await j.append(recs(101, 130));
      assert.equal(j.stats().spares, 0);
      assert.deepEqual(await files(dir, '.spare'), []);
      const reused = [];
      for (const n of await files(dir, '.seg')) if (inodes.has(await inode(join(dir, n)))) reused.push(n);
      assert.equal(reused.length, 2, 'both spares became segments');
      assert.deepEqual(await readAll(j, 61, 130), recs(61, 130));

      // A sealed segment is exactly its records, whatever the reused file held past them.
      const segs = await files(dir, '.seg');
      for (const [i, n] of segs.slice(0, -1).entries()) {
        const first = Number(n.slice(0, 20));
        const next = Number(segs[i + 1]?.slice(0, 20));
        const bytes = recs(first, next - 1).reduce((sum, r) => sum + HEADER_BYTES + r.bytes.length, 0);
        assert.equal((await stat(join(dir, n))).size, bytes, `${n} holds only its records`);
      }
      await j.close();

      // Closing trims the live segment too: reopening finds it as written, with nothing to cut.
      const { log, lines } = capture();
      const k = await Journal.open(dir, { segmentBytes: SEG, log });
      assert.equal(k.durableSeq, 130);
      assert.equal(k.recovered, undefined);
      assert.deepEqual(lines, []);
      assert.deepEqual(await readAll(k, 61, 130), recs(61, 130));
      await k.close();
    }));

  it('deletes every dropped segment with spareSegments 0, and trims spares to a lower limit at open', () =>
    withDir(async (dir) => {
      const j = await Journal.open(dir, { segmentBytes: SEG, spareSegments: 0 });
      await j.append(recs(1, 100));
      await j.dropThrough(60);
      assert.deepEqual(await files(dir, '.spare'), []);
      assert.equal(j.stats().spares, 0);
      await j.close();

      const k = await Journal.open(dir, { segmentBytes: SEG, spareSegments: 5 });
      await k.append(recs(101, 200));
      await k.dropThrough(190);
      assert.equal((await files(dir, '.spare')).length, 5);
      await k.close();
      const m = await Journal.open(dir, { segmentBytes: SEG, spareSegments: 1 });
      assert.equal((await files(dir, '.spare')).length, 1);
      assert.equal(m.stats().spares, 1);
      await m.close();
    }));

  it('refuses a spareSegments that is not an integer in 0..64, naming it', async () => {
    for (const bad of [-1, 1.5, 65, Number.NaN]) {
      await assert.rejects(Journal.open('/nonexistent/never-created', { spareSegments: bad }), (err: unknown) => {
        assert.ok(err instanceof JournalError);
        assert.equal(err.code, 'BadArgument');
        assert.match(err.message, /^spareSegments .* is not in 0\.\.64$/);
        return true;
      });
    }
  });

  it('after a crash, cuts a reused live segment after its new records, without calling it a torn write', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      await j.append(recs(101, 103)); // into a reused segment, far short of its end
      const live = (await files(dir, '.seg')).at(-1) ?? '';
      const written = j.bytesBetween(Number(live.slice(0, 20)), 103);
      assert.ok((await stat(join(dir, live))).size > written, 'the reused file still holds earlier contents past the new records');
      const crashed = `${dir}-crashed`;
      await cp(dir, crashed, { recursive: true }); // what a SIGKILL leaves: every acknowledged write is on disk
      await j.close();
      try {
        const { log, lines } = capture();
        const k = await Journal.open(crashed, { segmentBytes: SEG, log });
        assert.equal(k.durableSeq, 103);
        assert.equal(k.recovered, undefined);
        assert.deepEqual(lines, ['journal: cut the earlier contents of a reused segment after its new records']);
        assert.equal((await stat(join(crashed, live))).size, written);
        assert.deepEqual(await readAll(k, 61, 103), recs(61, 103));
        await k.append(recs(104, 140));
        assert.deepEqual(await readAll(k, 61, 140), recs(61, 140));
        await k.close();
      } finally {
        await import('node:fs/promises').then((fs) => fs.rm(crashed, { recursive: true, force: true }));
      }
    }));

  it('cuts a torn write in a reused segment, and refuses damage that a later write proves was acknowledged', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      await j.append(recs(101, 101));
      await j.append(recs(102, 102));
      await j.append(recs(103, 103));
      const live = (await files(dir, '.seg')).at(-1) ?? '';
      const first = Number(live.slice(0, 20));
      const torn = `${dir}-torn`;
      const damaged = `${dir}-damaged`;
      await cp(dir, torn, { recursive: true });
      await cp(dir, damaged, { recursive: true });
      await j.close();
      try {
        // Torn: the last write's record lost a byte of its data (never acknowledged, nothing proves it).
        const end = j.bytesBetween(first, 103);
        const fh = await openFile(join(torn, live), 'r+');
        await fh.write(Buffer.from([0xff ^ (recs(103, 103)[0]?.bytes[9] ?? 0)]), 0, 1, end - 10);
        await fh.close();
        const k = await Journal.open(torn, { segmentBytes: SEG });
        assert.equal(k.durableSeq, 102);
        assert.equal(k.recovered?.segment, live);
        assert.deepEqual(await readAll(k, 61, 102), recs(61, 102));
        await k.close();

        // Damaged: the record of 102 is bad, and the write of 103 after it says 102 was fsync'd.
        const at102 = j.bytesBetween(first, 101) + HEADER_BYTES + 3;
        const gh = await openFile(join(damaged, live), 'r+');
        const b = Buffer.alloc(1);
        await gh.read(b, 0, 1, at102);
        b[0] = (b[0] ?? 0) ^ 0x01;
        await gh.write(b, 0, 1, at102);
        await gh.close();
        await assert.rejects(Journal.open(damaged, { segmentBytes: SEG }), (err: unknown) => err instanceof JournalCorruptError && /proves this one was fsync'd/.test(err.message));
      } finally {
        const fs = await import('node:fs/promises');
        await fs.rm(torn, { recursive: true, force: true });
        await fs.rm(damaged, { recursive: true, force: true });
      }
    }));

  it('opens a segment that a crash left holding only a spare’s earlier contents as empty', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      await j.close();
      const [spare] = await files(dir, '.spare');
      assert.ok(spare !== undefined);
      // The crash came after the spare was renamed to the next segment, before anything was written.
      await rename(join(dir, spare), join(dir, segmentName(101)));
      const k = await Journal.open(dir, { segmentBytes: SEG });
      assert.equal(k.durableSeq, 100);
      assert.equal(k.recovered, undefined);
      assert.equal((await stat(join(dir, segmentName(101)))).size, 0);
      await k.append(recs(101, 120));
      assert.deepEqual(await readAll(k, 61, 120), recs(61, 120));
      await k.close();
    }));

  it('is broken, acknowledging nothing, when a spare cannot be opened as the next segment', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      for (const name of await files(dir, '.spare')) {
        await unlink(join(dir, name));
        await mkdir(join(dir, name)); // renamed into place, then refused by open
      }
      await assert.rejects(j.append(recs(101, 110)), (err: unknown) => err instanceof JournalError && err.code === 'Broken' && /EISDIR/.test(err.message));
      const durable = j.durableSeq; // what fitted in the live segment
      assert.ok(durable >= 100 && durable < 110, `durable through ${durable}`);
      await j.close();
      await rm(join(dir, segmentName(durable + 1)), { recursive: true });
      for (const name of await files(dir, '.spare')) await rm(join(dir, name), { recursive: true });
      const k = await Journal.open(dir, { segmentBytes: SEG });
      assert.equal(k.durableSeq, durable);
      await k.append(recs(durable + 1, 110));
      assert.deepEqual(await readAll(k, 61, 110), recs(61, 110));
      await k.close();
    }));

  it('deletes spares when the checkpoint index is missing, as their earlier records could no longer be told from new ones', () =>
    withDir(async (dir) => {
      const j = await withSpares(dir);
      await j.close();
      assert.equal((await files(dir, '.spare')).length, 2);
      await unlink(join(dir, 'index'));
      const { log, lines } = capture();
      const k = await Journal.open(dir, { segmentBytes: SEG, log });
      assert.deepEqual(await files(dir, '.spare'), []);
      assert.equal(lines.filter((l) => /deleted a spare segment/.test(l)).length, 2);
      assert.deepEqual(await readAll(k, 61, 100), recs(61, 100));
      await k.close();
    }));

  it('a read that a drop and the reuse of its segment overtake fails with Dropped, not as damage', () =>
    withDir(async (dir) => {
      // Segments of 2 MiB read in runs of 1 MiB: the reader comes back to a file it has open.
      const big = (from: number, to: number, size: number): { seq: number; bytes: Buffer }[] => records(from, to, () => false, size);
      const j = await Journal.open(dir, { segmentBytes: 2 * 1024 * 1024 });
      await j.append(big(1, 100, 65536));
      const got: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const r of j.read(1, 100)) {
            got.push(r.seq);
            if (r.seq === 1) {
              await j.dropThrough(70);
              assert.equal(j.stats().spares, 2);
              await j.append(big(101, 200, 60000)); // written over both spares, records unlike before
              assert.equal(j.stats().spares, 0);
            }
          }
        })(),
        (err: unknown) => err instanceof JournalError && err.code === 'Dropped' && /reused/.test(err.message),
      );
      assert.ok(got.length < 32, `read ${got.length} records past the drop`);
      assert.deepEqual(await readAll(j, 71, 200), [...big(71, 100, 65536), ...big(101, 200, 60000)]);
      await j.close();
    }));
});
