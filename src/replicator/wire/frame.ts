// Frames of the replication protocol (see README.md): a fixed 16-byte header, then the payload.
//
//   magic "ZCSR" | u8 version | u8 type | u16 reserved (0) | u32 payloadLength | u32 crc32
//
// The CRC covers the first 12 bytes of the header and the payload, so a flipped bit anywhere is
// caught before the payload is interpreted. TLS already protects the bytes in flight; the CRC
// catches what TLS cannot: a buggy peer, a broken proxy hop that does not run TLS end to end.
import { crc32 } from 'node:zlib';

export const MAGIC = 0x5a435352; // "ZCSR"
// 2: block hashes are XXH3-128 (../hash.ts); a version-1 peer's manifests and digests mean SHA-256.
export const PROTOCOL_VERSION = 2;
export const HEADER_BYTES = 16;
/** The TLS application protocol (ALPN) of replication connections: a client offering only others is refused at the handshake. */
export const REPLICATION_ALPN = 'zcsp-replication/1';
/** The largest payload either side accepts. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/**
 * The constants that make a family of frames: the replication protocol's, and the export stream's
 * (src/restore/format.ts), which reuses this framing (and its decoder) under its own magic so
 * that neither side can mistake one stream for the other.
 */
export interface FrameFormat {
  magic: number;
  /** The magic as text, for messages. */
  name: string;
  version: number;
  maxPayload: number;
}

export const REPLICATION_FRAMES: FrameFormat = { magic: MAGIC, name: 'ZCSR', version: PROTOCOL_VERSION, maxPayload: MAX_PAYLOAD_BYTES };

export const PROTOCOL_ERROR_CODES = [
  'BadMagic',
  'UnsupportedVersion',
  'TooLarge',
  'BadChecksum',
  'UnknownType',
  'BadMessage',
  'Truncated',
  'UnexpectedMessage',
  'BadSeq',
  'Timeout',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** The peer sent something this side cannot accept; `code` is stable, the message says what. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export interface Frame {
  type: number;
  payload: Buffer;
  /** The payload's memory when it was lent (FrameDecoder's `payloadMemory`): the taker lets it go. */
  lease?: { release(): void };
  /** Each piece's own CRC-32, when the frame's CRC was checked piece by piece (PieceChecksum). */
  pieceCrcs?: Uint32Array;
}

/**
 * Memory for a payload of `length` bytes of a frame of `type` that arrived in pieces (one that
 * arrived whole is a view of its chunk), or undefined: new memory. Its `buf` is `length` long.
 */
export type PayloadMemory = (type: number, length: number) => { buf: Buffer; release(): void } | undefined;

/**
 * For a type whose payload is a list of pieces the taker keeps each with its own CRC (RECORDS:
 * the journal stores every record's), the payload's CRC worked out piece by piece: the CRC
 * continued from `seed` over the whole payload, and each piece's own. The frame is then checked
 * against that, and every byte is read once instead of twice. Undefined: the type has no pieces,
 * or the payload is not laid out as its type says; the decoder then reads it whole (and the
 * message decoder names what is wrong, if the CRC matches).
 */
export type PieceChecksum = (type: number, payload: Buffer, seed: number) => { crc: number; pieces: Uint32Array } | undefined;

/**
 * One frame from payload parts: the parts are copied once, into the frame. `isKnownType` is not
 * checked here: the message layer owns the list of types.
 */
export function encodeFrame(type: number, parts: readonly Uint8Array[], format = REPLICATION_FRAMES): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const frame = allocFrame(type, length, format);
  let at = HEADER_BYTES;
  for (const p of parts) {
    frame.set(p, at);
    at += p.length;
  }
  return sealFrame(frame);
}

/**
 * A frame of `length` payload bytes whose payload the caller fills in place (at HEADER_BYTES),
 * then seals with sealFrame: for RECORDS, so a batch is copied once, straight into its frame.
 */
export function allocFrame(type: number, length: number, format = REPLICATION_FRAMES): Buffer {
  // Checked before the memory is taken.
  if (length > format.maxPayload) throw new ProtocolError('TooLarge', `payload of ${length} bytes exceeds ${format.maxPayload}`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  writeFrameHeader(frame, type, length, format);
  return frame;
}

/** Writes a frame header without its CRC (for a frame of `length` payload bytes that is written in pieces). */
export function writeFrameHeader(frame: Buffer, type: number, length: number, format = REPLICATION_FRAMES): void {
  if (length > format.maxPayload) throw new ProtocolError('TooLarge', `payload of ${length} bytes exceeds ${format.maxPayload}`);
  frame.writeUInt32BE(format.magic, 0);
  frame.writeUInt8(format.version, 4);
  frame.writeUInt8(type, 5);
  frame.writeUInt16BE(0, 6);
  frame.writeUInt32BE(length, 8);
}

/** Writes the CRC of a frame from allocFrame whose payload is complete. */
export function sealFrame(frame: Buffer): Buffer {
  frame.writeUInt32BE(frameCrc(frame.subarray(0, 12), frame.subarray(HEADER_BYTES)), 12);
  return frame;
}

function frameCrc(head: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(head));
}

/**
 * Splits a byte stream into frames, whatever the chunking. Throws ProtocolError on the first bad
 * frame; after that the stream is unusable (a framing error leaves no way to resynchronise).
 * Header checks come before the payload is awaited, so a huge length fails at once.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: Buffer | undefined;
  private payloadLength = 0;
  /** Bytes consumed so far: error messages name the offset of the bad frame. */
  private offset = 0;
  private failed: ProtocolError | undefined;
  private readonly format: FrameFormat;
  private readonly payloadMemory: PayloadMemory | undefined;
  private readonly pieceChecksum: PieceChecksum | undefined;

  constructor(format = REPLICATION_FRAMES, payloadMemory?: PayloadMemory, pieceChecksum?: PieceChecksum) {
    this.format = format;
    this.payloadMemory = payloadMemory;
    this.pieceChecksum = pieceChecksum;
  }

  /** Bytes consumed by complete frames so far. */
  get consumed(): number {
    return this.offset;
  }

  /** Bytes held that do not make a complete frame yet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds a chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    this.pushEach(chunk, (f) => frames.push(f));
    return frames;
  }

  /**
   * Feeds a chunk and hands each frame to `take` as soon as it is complete: the frames before a
   * bad one are taken before the error is thrown (so the caller knows where the stream was).
   */
  pushEach(chunk: Buffer, take: (frame: Frame) => void): void {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    try {
      for (;;) {
        if (this.header === undefined) {
          if (this.buffered < HEADER_BYTES) break;
          this.header = this.take(HEADER_BYTES);
          this.payloadLength = this.checkHeader(this.header);
        }
        if (this.buffered < this.payloadLength) break;
        const header: Buffer = this.header;
        const type = header.readUInt8(5);
        const first = this.chunks[0];
        const lease = first !== undefined && first.length < this.payloadLength ? this.payloadMemory?.(type, this.payloadLength) : undefined;
        const payload = this.take(this.payloadLength, lease?.buf);
        const expected = header.readUInt32BE(12);
        const seed = crc32(header.subarray(0, 12));
        const pieces = this.pieceChecksum?.(type, payload, seed);
        const actual = pieces?.crc ?? crc32(payload, seed);
        if (expected !== actual) {
          lease?.release();
          throw new ProtocolError('BadChecksum', `frame at offset ${this.offset} (type ${header[5]}, ${payload.length} bytes) has CRC-32 ${hex(actual)}, its header says ${hex(expected)}`);
        }
        this.offset += HEADER_BYTES + payload.length;
        this.header = undefined;
        const frame: Frame = { type, payload };
        if (lease !== undefined) frame.lease = lease;
        if (pieces !== undefined) frame.pieceCrcs = pieces.pieces;
        take(frame);
      }
    } catch (err: unknown) {
      if (err instanceof ProtocolError) this.failed = err;
      throw err;
    }
  }

  /** The stream ended: throws Truncated when it ended inside a frame. */
  end(): void {
    if (this.failed !== undefined) return;
    if (this.header !== undefined || this.buffered > 0) {
      const have = (this.header === undefined ? 0 : HEADER_BYTES) + this.buffered;
      const want = this.header === undefined ? HEADER_BYTES : HEADER_BYTES + this.payloadLength;
      this.failed = new ProtocolError('Truncated', `stream ended inside the frame at offset ${this.offset}: ${have} of ${want} bytes`);
      throw this.failed;
    }
  }

  private checkHeader(h: Buffer): number {
    const at = `frame at offset ${this.offset}`;
    const f = this.format;
    const magic = h.readUInt32BE(0);
    if (magic !== f.magic) throw new ProtocolError('BadMagic', `${at} starts with ${hex(magic)}, not ${hex(f.magic)} ("${f.name}")`);
    const version = h.readUInt8(4);
    if (version !== f.version) throw new ProtocolError('UnsupportedVersion', `${at} is protocol version ${version}; this side speaks ${f.version}`);
    const length = h.readUInt32BE(8);
    if (length > f.maxPayload) throw new ProtocolError('TooLarge', `${at} announces ${length} payload bytes, more than ${f.maxPayload}`);
    return length;
  }

  /** The next n bytes: a view when one chunk holds them, else one copy (into `into` when given). */
  private take(n: number, into?: Buffer): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = into ?? Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      if (c === undefined) throw new Error('FrameDecoder: buffered count out of step');
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
