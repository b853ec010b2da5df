import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../../test/replicator/support/random.ts';
import { BlockArena, RingWriter, type ArenaRing, type ArenaSpan } from './block-arena.ts';

/** One ring's two ends in one thread: what the worker packs, and the spans the main thread gets back. */
function ringOf(bytes: number, rings = 1, index = 0): { arena: BlockArena; ring: ArenaRing; writer: RingWriter } {
  const arena = new BlockArena(bytes, rings);
  const ring = arena.rings[index];
  assert.ok(ring !== undefined);
  return { arena, ring, writer: new RingWriter(arena.writerOf(index)) };
}

function pack(writer: RingWriter, ring: ArenaRing, n: number): ArenaSpan | undefined {
  const room = writer.alloc(n);
  return room === undefined ? undefined : ring.took(room.byteOffset, room.length);
}

describe('block arena', () => {
  it('packs one span after another, and starts over once all are back', () => {
    const { ring, writer } = ringOf(100);
    const a = pack(writer, ring, 40);
    const b = pack(writer, ring, 40);
    assert.deepEqual([a?.offset, b?.offset], [0, 40]);
    assert.equal(writer.alloc(30), undefined, 'only 20 bytes left at the end, and the start is held');
    a?.release();
    b?.release();
    assert.equal(ring.count, 0);
    assert.equal(writer.alloc(80), undefined, 'the head goes on where it was (80): 20 bytes at the end, 79 at the start');
    assert.equal(pack(writer, ring, 79)?.offset, 0);
  });

  it('wraps to the start once the oldest spans are back, and never over the ones still held', () => {
    const { ring, writer } = ringOf(100);
    const a = pack(writer, ring, 40);
    const b = pack(writer, ring, 40);
    a?.release();
    const c = pack(writer, ring, 30);
    assert.equal(c?.offset, 0, 'no room at the end: the start, freed by the oldest span');
    assert.equal(writer.alloc(10), undefined, 'one byte stays free before b: 30..39 is 9 bytes of room');
    assert.equal(pack(writer, ring, 9)?.offset, 30);
    b?.release();
    assert.equal(writer.alloc(61), undefined, 'c is held at 0: the head may not come round onto it');
    assert.equal(pack(writer, ring, 60)?.offset, 39);
  });

  it('a span given back out of turn is a hole until every span before it is back', () => {
    const { ring, writer } = ringOf(100);
    const a = pack(writer, ring, 50);
    const b = pack(writer, ring, 49);
    b?.release();
    assert.equal(writer.alloc(10), undefined, 'b is back, but a is still held in front of it');
    a?.release();
    assert.equal(pack(writer, ring, 98)?.offset, 0);
  });

  it('keeps a span while any holder has it, and refuses a release too many', () => {
    const { ring, writer } = ringOf(10);
    const a = pack(writer, ring, 9);
    a?.retain();
    a?.release();
    assert.equal(writer.alloc(1), undefined);
    a?.release();
    assert.ok(writer.alloc(1) !== undefined);
    assert.throws(() => a?.release(), /more often than it was held/);
    assert.throws(() => a?.retain(), /was released/);
  });

  it('gives each worker a ring of its own, and refuses what does not fit', () => {
    const arena = new BlockArena(300, 3);
    assert.deepEqual(arena.rings.map((r) => [r.base, r.size]), [[0, 100], [100, 100], [200, 100]]);
    const { ring, writer } = ringOf(300, 3, 1);
    const span = pack(writer, ring, 10) ?? assert.fail('no room');
    assert.equal(span.offset, 100);
    assert.equal(ring.view(span).byteOffset, 100);
    assert.throws(() => ring.took(99, 5), /outside its ring \(100\.\.200\)/);
    assert.throws(() => ring.took(190, 11), /outside its ring/);
    assert.throws(() => new BlockArena(0, 1), /not a positive integer/);
    assert.throws(() => new BlockArena(3, 2), /2 rings do not fit/);
    assert.equal(writer.alloc(0), undefined);
    assert.equal(writer.alloc(101), undefined);
  });

  it('never lets two held spans share a byte, over random packs and releases with answers on their way', () => {
    const rnd = new Random(Number(process.env['ZCSP_TEST_SEED'] ?? 7));
    const { arena, ring, writer } = ringOf(4096);
    const bytes = new Uint8Array(arena.memory);
    // Packed by the worker, not yet known to the main thread (an answer on its way).
    const inFlight: { at: number; length: number; mark: number }[] = [];
    const held: { span: ArenaSpan; mark: number }[] = [];
    let mark = 1;
    let packed = 0;
    for (let step = 0; step < 30_000; step++) {
      const r = rnd.next();
      if (r < 0.4) {
        const room = writer.alloc(1 + rnd.int(700));
        if (room === undefined) continue;
        packed++;
        const m = (mark++ % 255) + 1;
        room.fill(m);
        inFlight.push({ at: room.byteOffset, length: room.length, mark: m });
      } else if (r < 0.7) {
        const answer = inFlight.shift();
        if (answer !== undefined) held.push({ span: ring.took(answer.at, answer.length), mark: answer.mark });
      } else if (held.length > 0) {
        // Mostly the oldest first, as acknowledgements come; sometimes another.
        const i = rnd.next() < 0.8 ? 0 : rnd.int(held.length);
        const [h] = held.splice(i, 1);
        if (h === undefined) continue;
        for (let k = h.span.offset; k < h.span.offset + h.span.length; k++) assert.equal(bytes[k], h.mark, `byte ${k} of a held span was overwritten`);
        h.span.release();
      }
    }
    assert.ok(packed > 5000, `only ${packed} spans were packed`);
    for (const a of inFlight) held.push({ span: ring.took(a.at, a.length), mark: a.mark });
    for (const { span } of held) span.release();
    assert.equal(ring.count, 0);
    assert.ok(writer.alloc(2047) !== undefined, 'all back: at least half the ring in one piece');
  });
});
