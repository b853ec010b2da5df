// Shared memory that the hash workers pack changed blocks into, used again and again. Before, a
// worker sent each batch's changed blocks back in memory of their own: a 5 % change of a 20 000-file
// volume made ~100 MB of new buffers on the main thread per checkpoint, which V8 counts against a
// budget of its own and answers with a full collection of the heap every ~64 MB. Those
// collections were a quarter of the source VRA's CPU in that delta.
//
// Each worker has a ring of its own in the arena. The worker alone writes it: it packs what a
// scan found changed at its head, and moves on. The main thread alone frees it: each packed scan
// comes back as a span, and when the last record made of a span is acknowledged (the sender drops
// records in seq order, so the oldest spans come back first), the ring's tail moves past it; the
// tail is the one number both threads read, through Atomics. A span given back early (a hole) is
// taken again once every span before it is back too. When the ring has no room, the worker uses
// memory of its own, as before: nothing ever waits for the arena.

/** What keeps a span's memory: each holder releases once. */
export interface Hold {
  retain(): void;
  release(): void;
}

export class ArenaSpan implements Hold {
  /** Where the span starts in the arena. */
  readonly offset: number;
  readonly length: number;
  private refs = 1;
  private readonly ring: ArenaRing;

  constructor(ring: ArenaRing, offset: number, length: number) {
    this.ring = ring;
    this.offset = offset;
    this.length = length;
  }

  get released(): boolean {
    return this.refs === 0;
  }

  retain(): void {
    if (this.refs === 0) throw new Error('retaining a span that was released');
    this.refs++;
  }

  release(): void {
    if (this.refs === 0) throw new Error('releasing a span more often than it was held');
    this.refs--;
    if (this.refs === 0) this.ring.reclaim();
  }
}

/** One worker's ring, as the main thread sees it: the spans it got back, oldest first. */
export class ArenaRing {
  readonly base: number;
  readonly size: number;
  private readonly tail: Int32Array;
  private readonly index: number;
  private spans: ArenaSpan[] = [];
  private first = 0;
  private readonly memory: SharedArrayBuffer;

  constructor(memory: SharedArrayBuffer, tail: Int32Array, index: number, base: number, size: number) {
    this.memory = memory;
    this.tail = tail;
    this.index = index;
    this.base = base;
    this.size = size;
  }

  /** Spans out (got back and not reclaimed). */
  get count(): number {
    return this.spans.length - this.first;
  }

  /** A span for `length` bytes the worker packed at `offset` (of the arena), held once by the caller. */
  took(offset: number, length: number): ArenaSpan {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length <= 0 || offset < this.base || offset + length > this.base + this.size) {
      throw new RangeError(`a worker packed ${length} bytes at ${offset}, outside its ring (${this.base}..${this.base + this.size})`);
    }
    const span = new ArenaSpan(this, offset, length);
    this.spans.push(span);
    return span;
  }

  /** A view of a span's bytes. */
  view(span: ArenaSpan): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.memory, span.offset, span.length) as unknown as Uint8Array<ArrayBuffer>;
  }

  /** Drops the released spans at the front, and tells the worker where the live ones start now. */
  reclaim(): void {
    let end: number | undefined;
    while (this.spans[this.first]?.released === true) {
      const s = this.spans[this.first++];
      if (s !== undefined) end = s.offset + s.length;
    }
    if (end === undefined) return;
    const next = this.spans[this.first];
    // Up to the next span the worker packed, or, none known, to the end of the last one (the
    // worker's head, or before it when answers are still on their way).
    const tail = (next === undefined ? end : next.offset) - this.base;
    Atomics.store(this.tail, this.index, tail === this.size ? 0 : tail);
    if (this.first === this.spans.length) {
      this.spans = [];
      this.first = 0;
    } else if (this.first > 1024 && this.first * 2 > this.spans.length) {
      this.spans = this.spans.slice(this.first);
      this.first = 0;
    }
  }
}

/** The memory and one ring per worker (main thread side). */
export class BlockArena {
  readonly memory: SharedArrayBuffer;
  /** Per ring, its tail (relative to its base), written by the main thread only. */
  readonly tails: SharedArrayBuffer;
  readonly rings: readonly ArenaRing[];

  constructor(bytes: number, rings: number) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`arena size ${bytes} is not a positive integer`);
    if (!Number.isInteger(rings) || rings < 1 || bytes / rings < 2) throw new RangeError(`${rings} rings do not fit in an arena of ${bytes} bytes`);
    this.memory = new SharedArrayBuffer(bytes);
    this.tails = new SharedArrayBuffer(4 * rings);
    const tail = new Int32Array(this.tails);
    const size = Math.floor(bytes / rings);
    this.rings = Array.from({ length: rings }, (_, i) => new ArenaRing(this.memory, tail, i, i * size, size));
  }

  /** What worker `index` needs to write its ring. */
  writerOf(index: number): RingWriterSetup {
    const ring = this.rings[index];
    if (ring === undefined) throw new RangeError(`no ring ${index}`);
    return { memory: this.memory, tails: this.tails, index, base: ring.base, size: ring.size };
  }
}

export interface RingWriterSetup {
  memory: SharedArrayBuffer;
  tails: SharedArrayBuffer;
  index: number;
  base: number;
  size: number;
}

/**
 * A worker's side of its ring: hands out room at the head when the tail (what the main thread
 * freed) leaves enough. One byte always stays free, so that head = tail means empty.
 */
export class RingWriter {
  private readonly bytes: Uint8Array;
  private readonly tail: Int32Array;
  private readonly index: number;
  private readonly base: number;
  private readonly size: number;
  private head = 0;

  constructor(setup: RingWriterSetup) {
    this.bytes = new Uint8Array(setup.memory);
    this.tail = new Int32Array(setup.tails);
    this.index = setup.index;
    this.base = setup.base;
    this.size = setup.size;
  }

  /** Room for `n` bytes (a view of the arena), or undefined when the ring has none now. */
  alloc(n: number): Uint8Array | undefined {
    if (n <= 0) return undefined;
    const tail = Atomics.load(this.tail, this.index);
    let at: number | undefined;
    if (tail <= this.head) {
      // Free: from the head to the end, and from the start to just before the tail (up to the
      // very end only when the tail is not at the start: the head must not come back onto it).
      if (this.head + n < this.size || (this.head + n === this.size && tail > 0)) at = this.head;
      else if (n < tail) at = 0;
    } else if (this.head + n < tail) {
      at = this.head;
    }
    if (at === undefined) return undefined;
    this.head = (at + n) % this.size;
    return this.bytes.subarray(this.base + at, this.base + at + n);
  }
}
