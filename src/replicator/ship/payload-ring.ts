// Memory for the RECORDS frames a receiver assembles, used again once their records are durable.
// A frame arrives in TLS chunks of 16 KiB and is assembled into one payload, whose records the
// journal writes from where they are and the receiver holds until the fsync: new memory for each
// 1 MiB frame lived long enough to count against V8's budget for outside memory, which answered
// every ~64 MB of it with a full collection of the heap, several per checkpoint of a busy volume.
//
// One buffer, handed out in leases in arrival order and reclaimed in that order (appends complete
// in seq order); a lease let go early is a hole until the ones before it are back too. When the
// ring has no room, the frame gets memory of its own, as before: nothing waits for the ring.

/** Memory lent for one frame's payload; let go once, when nothing reads it any more. */
export interface Lease {
  readonly buf: Buffer;
  release(): void;
}

class RingLease implements Lease {
  readonly buf: Buffer;
  readonly offset: number;
  released = false;
  private readonly ring: PayloadRing;

  constructor(ring: PayloadRing, buf: Buffer, offset: number) {
    this.ring = ring;
    this.buf = buf;
    this.offset = offset;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.ring.reclaim();
  }
}

export class PayloadRing {
  readonly size: number;
  private memory: Buffer | undefined;
  /** Leases not reclaimed, oldest first. */
  private leases: RingLease[] = [];
  private first = 0;
  private head = 0;
  /** Payloads that found no room (they got memory of their own). */
  misses = 0;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`ring size ${size} is not a positive integer`);
    this.size = size;
  }

  /** Leases out (not reclaimed). */
  get count(): number {
    return this.leases.length - this.first;
  }

  /** `n` bytes, or undefined when the ring has no contiguous room for them now. */
  take(n: number): Lease | undefined {
    if (!Number.isSafeInteger(n) || n <= 0 || n > this.size) return undefined;
    const oldest = this.leases[this.first];
    const newest = this.leases[this.leases.length - 1];
    let at: number | undefined;
    if (oldest === undefined) {
      at = 0;
    } else if (newest !== undefined && newest.offset < oldest.offset) {
      // Held from the oldest to the end and from the start to the head: room only in between.
      if (this.head + n <= oldest.offset) at = this.head;
    } else if (this.head + n <= this.size) {
      at = this.head;
    } else if (n <= oldest.offset) {
      at = 0;
    }
    if (at === undefined) {
      this.misses++;
      return undefined;
    }
    // Made on first use: a stream that never ships a frame holds none of it.
    this.memory ??= Buffer.allocUnsafeSlow(this.size);
    const lease = new RingLease(this, this.memory.subarray(at, at + n), at);
    this.leases.push(lease);
    this.head = at + n;
    return lease;
  }

  /** Drops the released leases at the front. */
  reclaim(): void {
    while (this.leases[this.first]?.released === true) this.first++;
    if (this.first === this.leases.length) {
      this.leases = [];
      this.first = 0;
      this.head = 0;
    } else if (this.first > 1024 && this.first * 2 > this.leases.length) {
      this.leases = this.leases.slice(this.first);
      this.first = 0;
    }
  }

  /** Lets go of the memory once nothing is lent: an idle stream should not hold it. */
  trim(): void {
    if (this.count === 0) this.memory = undefined;
  }
}
