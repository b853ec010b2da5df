import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '../../../test/replicator/support/random.ts';
import { Journal } from './journal.ts';
import { DEFAULT_SEGMENT_BYTES, DEFAULT_SPARE_SEGMENTS, fileOverheadBytes } from './footprint.ts';
import { records, withDir } from './testkit.ts';

const SEG = 16 * 1024;

/** Bytes of every segment and spare file in the folder. */
async function segmentFileBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.seg') || name.endsWith('.spare')) total += (await stat(join(dir, name))).size;
  return total;
}

describe('journal file overhead', () => {
  it('is two segments plus the spares, one segment without spares', () => {
    assert.equal(fileOverheadBytes(), DEFAULT_SEGMENT_BYTES * (2 + DEFAULT_SPARE_SEGMENTS));
    assert.equal(fileOverheadBytes(), 256 * 1024 * 1024);
    assert.equal(fileOverheadBytes(SEG, 0), SEG);
    assert.equal(fileOverheadBytes(SEG, 1), 3 * SEG);
  });

  // What sizing adds to the records the hard limit counts: the files never hold more, and a
  // workload of appends and drops (as retention makes) comes close, so the bound is not slack.
  for (const spares of [0, 2, 5]) {
    it(`bounds what the files hold past the kept records (${spares} spares), through appends, drops and reopens`, () =>
      withDir(async (dir) => {
        const rnd = new Random(1000 + spares);
        const bound = fileOverheadBytes(SEG, spares);
        let j = await Journal.open(dir, { segmentBytes: SEG, spareSegments: spares });
        let next = 1;
        let most = 0;
        try {
          for (let step = 0; step < 250; step++) {
            const n = 1 + rnd.int(12);
            // Sizes up to a third of a segment, so segments end part full and drops land mid-segment.
            await j.append(records(next, next + n - 1, () => false, 1 + rnd.int(SEG / 3)));
            next += n;
            const { firstSeq, durableSeq } = j.stats();
            if (rnd.next() < 0.3 && durableSeq > firstSeq) await j.dropThrough(firstSeq + rnd.int(durableSeq - firstSeq));
            if (rnd.next() < 0.05) {
              await j.close();
              j = await Journal.open(dir, { segmentBytes: SEG, spareSegments: spares });
            }
            const stats = j.stats();
            const kept = stats.durableSeq >= stats.firstSeq ? j.bytesBetween(stats.firstSeq, stats.durableSeq) : 0;
            const overhead = (await segmentFileBytes(dir)) - kept;
            assert.ok(overhead <= bound, `step ${step}: the files hold ${overhead} bytes past the kept records, over the ${bound} bound`);
            most = Math.max(most, overhead);
          }
        } finally {
          await j.close();
        }
        assert.ok(most > bound - SEG, `the most seen, ${most} bytes, is within a segment of the ${bound} bound`);
      }));
  }
});
