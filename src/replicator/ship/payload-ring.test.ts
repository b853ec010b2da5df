import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../../test/replicator/support/random.ts';
import { PayloadRing, type Lease } from './payload-ring.ts';

describe('payload ring', () => {
  it('lends one piece after another, wraps once the oldest are back, and never over one still lent', () => {
    const ring = new PayloadRing(100);
    const a = ring.take(40) ?? assert.fail('no room');
    const b = ring.take(40) ?? assert.fail('no room');
    assert.equal(a.buf.buffer, b.buf.buffer, 'one buffer');
    assert.equal(b.buf.byteOffset - a.buf.byteOffset, 40);
    assert.equal(ring.take(30), undefined, 'only 20 bytes at the end, and the start is lent');
    assert.equal(ring.misses, 1);
    a.release();
    const c = ring.take(30) ?? assert.fail('no room');
    assert.equal(c.buf.byteOffset, a.buf.byteOffset, 'the start again');
    assert.equal(ring.take(11), undefined, 'wrapped: 10 bytes between c and b');
    assert.ok(ring.take(10) !== undefined);
    b.release();
    b.release();
    assert.equal(ring.count, 2, 'a release too many changes nothing');
  });

  it('keeps a piece let go early as a hole until the ones before it are back, then starts over', () => {
    const ring = new PayloadRing(100);
    const a = ring.take(50) ?? assert.fail('no room');
    const b = ring.take(50) ?? assert.fail('no room');
    b.release();
    assert.equal(ring.take(10), undefined);
    a.release();
    assert.equal(ring.count, 0);
    assert.equal(ring.take(100)?.buf.length, 100);
  });

  it('lends nothing it cannot, makes its memory on first use and lets it go when idle', () => {
    assert.throws(() => new PayloadRing(0), /not a positive integer/);
    const ring = new PayloadRing(64);
    assert.equal(ring.take(0), undefined);
    assert.equal(ring.take(65), undefined);
    const a = ring.take(8) ?? assert.fail('no room');
    ring.trim();
    const b = ring.take(8) ?? assert.fail('no room');
    assert.equal(a.buf.buffer, b.buf.buffer, 'kept while something is lent');
    a.release();
    b.release();
    ring.trim();
    assert.notEqual((ring.take(8) ?? assert.fail('no room')).buf.buffer, a.buf.buffer, 'new memory after a trim');
  });

  it('never lends a byte that is still lent, over random takes and releases', () => {
    const rnd = new Random(Number(process.env['ZCSP_TEST_SEED'] ?? 11));
    const ring = new PayloadRing(8192);
    const lent: { lease: Lease; mark: number }[] = [];
    let mark = 0;
    let granted = 0;
    for (let step = 0; step < 20_000; step++) {
      if (rnd.next() < 0.5) {
        const lease = ring.take(1 + rnd.int(1500));
        if (lease === undefined) continue;
        granted++;
        mark = (mark % 255) + 1;
        lease.buf.fill(mark);
        lent.push({ lease, mark });
      } else if (lent.length > 0) {
        const i = rnd.next() < 0.85 ? 0 : rnd.int(lent.length);
        const [l] = lent.splice(i, 1);
        if (l === undefined) continue;
        assert.ok(l.lease.buf.every((x) => x === l.mark), 'a lent piece was written over');
        l.lease.release();
      }
    }
    assert.ok(granted > 5000, `only ${granted} leases`);
    for (const l of lent) l.lease.release();
    assert.equal(ring.count, 0);
  });
});
