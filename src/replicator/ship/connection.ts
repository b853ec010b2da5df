// One end of a replication link: frames in (decoded and checked) and out (with the socket's
// backpressure visible to the caller), and one place where the link ends, once.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameDecoder, ProtocolError, REPLICATION_FRAMES, type PayloadMemory } from '../wire/frame.ts';
import { decodeMessage, encodeMessage, recordsPieceChecksum, type Message } from '../wire/messages.ts';

export interface ConnectionHandlers {
  /**
   * A well-formed message; throwing a ProtocolError from here fails the link with it. `lease`:
   * the frame's payload memory was lent (`payloadMemory`), and the message's buffers are views of
   * it; the handler lets it go, once, whatever happens.
   */
  message(m: Message, lease?: { release(): void }): void;
  /** The link ended: `err` says why (undefined: the peer closed cleanly between frames). */
  closed(err: Error | undefined): void;
}

/**
 * Whether `socket` is done with what it was given to write once its write has completed: a net
 * or TLS socket copies it to the kernel (or, TLS, encrypts it) by then, and never hands it on.
 * Another stream may pass the very buffer to a reader that keeps it: such a stream is given
 * copies, not views of memory that will be used again.
 */
export function readsInPlace(socket: Duplex): boolean {
  return socket instanceof Socket;
}

/** How long an ERROR frame gets to reach the peer before the socket is destroyed. */
const ERROR_GRACE_MS = 1000;

export class Connection {
  readonly socket: Duplex;
  bytesIn = 0;
  bytesOut = 0;
  /** Date.now() of the last bytes received. */
  lastReceivedAt = Date.now();
  private readonly decoder: FrameDecoder;
  private readonly handlers: ConnectionHandlers;
  private ended = false;
  private endError: Error | undefined;
  private drainWaiters: (() => void)[] = [];

  /** `payloadMemory`: where payloads that arrive in pieces are put together (FrameDecoder). */
  constructor(socket: Duplex, handlers: ConnectionHandlers, payloadMemory?: PayloadMemory) {
    this.socket = socket;
    this.handlers = handlers;
    this.decoder = new FrameDecoder(REPLICATION_FRAMES, payloadMemory, recordsPieceChecksum);
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on('end', () => {
      if (this.ended) return;
      try {
        this.decoder.end();
      } catch (err: unknown) {
        // The peer may still read (a half close): tell it what it cut.
        if (err instanceof ProtocolError) this.fail(err.code, err.message, err);
        else this.destroy(err as Error);
        return;
      }
      this.finish(undefined);
      socket.end();
    });
    socket.on('error', (err: Error) => {
      this.finish(err);
    });
    socket.on('close', () => {
      this.finish(new Error('connection closed'));
    });
    socket.on('drain', () => {
      this.wakeDrain();
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Why the link ended (undefined while it is up or when it ended cleanly). */
  get error(): Error | undefined {
    return this.endError;
  }

  /** Writes a message; false: the socket's buffer is full, wait for drain() before more bulk. */
  send(m: Message): boolean {
    if (this.ended) return false;
    const frame = encodeMessage(m);
    this.bytesOut += frame.length;
    return this.socket.write(frame);
  }

  /**
   * Writes one frame given as pieces (recordsFrameParts), corked so that they go out as one
   * write; false: wait for drain() before more bulk.
   */
  sendFrameParts(parts: readonly Buffer[]): boolean {
    if (this.ended) return false;
    let more = true;
    this.socket.cork();
    try {
      for (const p of parts) {
        this.bytesOut += p.length;
        more = this.socket.write(p);
      }
    } finally {
      this.socket.uncork();
    }
    return more;
  }

  /** Resolves when the socket takes more (or the link ended). */
  drain(): Promise<void> {
    if (this.ended || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Tells the peer why (an ERROR frame), then closes. */
  fail(code: string, message: string, err?: Error): void {
    this.closeWith({ type: 'error', code, message: message.slice(0, 4000) }, err ?? new LinkError(code, message));
  }

  /** Sends a last message (ERROR, REFUSE), then closes. */
  closeWith(last: Message, err: Error | undefined): void {
    if (this.ended) return;
    try {
      this.socket.write(encodeMessage(last));
    } catch {
      // the peer learns nothing more; the link still ends below
    }
    this.finish(err);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), ERROR_GRACE_MS).unref();
  }

  /** Ends the link at once. */
  destroy(err?: Error): void {
    this.finish(err ?? new Error('connection closed by this side'));
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.bytesIn += chunk.length;
    this.lastReceivedAt = Date.now();
    try {
      // Each frame as it completes: a lent payload is always handed on or let go, even when a
      // frame before it ended the link or a frame after it is bad.
      this.decoder.pushEach(chunk, (frame) => {
        let m: Message;
        try {
          if (this.closed) throw new Closed();
          m = decodeMessage(frame);
        } catch (err: unknown) {
          frame.lease?.release();
          throw err;
        }
        this.handlers.message(m, frame.lease);
      });
    } catch (err: unknown) {
      if (err instanceof Closed) return;
      if (err instanceof ProtocolError) this.fail(err.code, err.message, err);
      else this.destroy(err as Error);
    }
  }

  private finish(err: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = err;
    this.wakeDrain();
    this.handlers.closed(err);
  }

  private wakeDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

/** Stops the frames of a chunk once a handler has ended the link. */
class Closed extends Error {}

/** The link ended for a reason with a protocol code (sent by this side or by the peer). */
export class LinkError extends Error {
  override readonly name = 'LinkError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
