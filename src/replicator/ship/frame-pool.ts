// Memory for RECORDS frames, used again once the socket has written a frame. A sender moving
// 100 MB made 100 MB of fresh 1 MiB buffers: V8 counts such memory against a budget of its own and
// starts a full collection of the heap every ~64 MB of it, so a 5 % change of a 20 000-file volume
// cost the source VRA several full collections per checkpoint; and fresh pages are faulted in as
// the frame is filled, which made the copy into the frame a tenth of the main thread's time.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export class FramePool {
  /** Bytes of every pooled buffer: larger frames get memory of their own. */
  readonly frameBytes: number;
  private readonly keep: number;
  private readonly free: Buffer[] = [];
  private made = 0;
  private reused = 0;

  constructor(frameBytes: number, keep = 4) {
    this.frameBytes = frameBytes;
    this.keep = keep;
  }

  /**
   * Whether `socket` is done with a written buffer once its write callback has run: a net or TLS
   * socket copies it to the kernel (or, TLS, encrypts it) by then. Other streams may hand the
   * very buffer on to a reader that keeps it, so theirs are never used again.
   */
  static reusesAfterWrite(socket: Duplex): boolean {
    return socket instanceof Socket;
  }

  /** Memory for a frame of `bytes`; undefined when it is larger than the pool's buffers. */
  take(bytes: number): Buffer | undefined {
    if (bytes > this.frameBytes) return undefined;
    const buf = this.free.pop();
    if (buf !== undefined) {
      this.reused++;
      return buf;
    }
    this.made++;
    return Buffer.allocUnsafeSlow(this.frameBytes);
  }

  /** Gives back memory from take(): nothing may read it any more. */
  give(buf: Buffer): void {
    if (buf.length === this.frameBytes && this.free.length < this.keep) this.free.push(buf);
  }

  /**
   * Lets go of the memory kept: a VRA serves many streams, and an idle one should not hold a few
   * MiB of frames it may not need for hours.
   */
  release(): void {
    this.free.length = 0;
  }

  get stats(): { made: number; reused: number; free: number } {
    return { made: this.made, reused: this.reused, free: this.free.length };
  }
}
