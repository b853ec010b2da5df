// The messages of the replication protocol and their payloads (see README.md). Every field read
// from the wire is checked here, so the sender and receiver only ever see well-formed messages.
//
//   str8 := u8 length | UTF-8      str16 := u16 length | UTF-8      u48 := 6 bytes big-endian
import { crc32 } from 'node:zlib';
import { crc32Combine } from '../crc32.ts';
import { MAX_UINT48 } from '../ops.ts';
import { allocFrame, encodeFrame, HEADER_BYTES, ProtocolError, sealFrame, writeFrameHeader, type Frame, type PieceChecksum } from './frame.ts';

export const MESSAGE_TYPES = {
  hello: 1,
  welcome: 2,
  refuse: 3,
  records: 4,
  ack: 5,
  manifestRequest: 6,
  manifest: 7,
  error: 8,
  ping: 9,
  pong: 10,
} as const;
export type MessageName = keyof typeof MESSAGE_TYPES;
const NAME_OF = new Map<number, MessageName>(Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k as MessageName]));

/** Why a receiver refused a HELLO. */
export type RefuseCode = 'Unauthenticated' | 'UnknownStream' | 'Busy' | 'ShuttingDown';
/**
 * The ERROR code a receiver ends a link with when the sender's records build on a volume it reset
 * (the volume was added again on the recovery side): the sender drops what it has not had
 * acknowledged and starts over after the journal, with a delta sync.
 */
export const VOLUME_RESET = 'VolumeReset';
/** The one message an Unauthenticated refusal carries: nothing about what was wrong. */
export const INVALID_CREDENTIALS = 'invalid credentials';

export const MAX_TOKEN_BYTES = 512;
export const MAX_ID_BYTES = 253;
export const MAX_TEXT_BYTES = 4096;
export const PING_BYTES = 8;

export interface Checkpoint {
  seq: number;
  time: number;
}

export type Message =
  | { type: 'hello'; vpg: string; token: string; senderId: string }
  | { type: 'welcome'; durableSeq: number; checkpoint?: Checkpoint }
  | { type: 'refuse'; code: string; message: string }
  /**
   * `records` are views into the frame (receiving) or the sender's buffer (sending). `crcs`:
   * each record's CRC-32, when the frame was checked record by record (recordsPieceChecksum).
   */
  | { type: 'records'; firstSeq: number; records: readonly Buffer[]; crcs?: Uint32Array }
  | { type: 'ack'; durableSeq: number }
  | { type: 'manifestRequest'; id: number; volume: string }
  /** One chunk of an encoded manifest (manifest-codec.ts); `error` instead when it failed. */
  | { type: 'manifest'; id: number; last: boolean; chunk: Buffer; error?: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'ping'; nonce: Buffer }
  | { type: 'pong'; nonce: Buffer };

class Out {
  readonly parts: Buffer[] = [];
  u8(v: number): void {
    this.parts.push(Buffer.from([v]));
  }
  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
  }
  u48(v: number): void {
    const b = Buffer.allocUnsafe(6);
    b.writeUIntBE(v, 0, 6);
    this.parts.push(b);
  }
  f64(v: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(v);
    this.parts.push(b);
  }
  str(field: string, s: string, lengthBytes: 1 | 2, max: number): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > max) throw new ProtocolError('BadMessage', `${field} is ${b.length} bytes, more than ${max}`);
    const len = Buffer.allocUnsafe(lengthBytes);
    len.writeUIntBE(b.length, 0, lengthBytes);
    this.parts.push(len, b);
  }
  raw(b: Buffer): void {
    this.parts.push(b);
  }
}

function seqField(field: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_UINT48) throw new ProtocolError('BadMessage', `${field} ${v} is not an integer in 0..${MAX_UINT48}`);
  return v;
}

/** Encodes a message as one frame. */
export function encodeMessage(m: Message): Buffer {
  const o = new Out();
  switch (m.type) {
    case 'hello':
      o.str('hello vpg', m.vpg, 1, MAX_ID_BYTES);
      o.str('hello token', m.token, 2, MAX_TOKEN_BYTES);
      o.str('hello senderId', m.senderId, 1, MAX_ID_BYTES);
      break;
    case 'welcome':
      o.u48(seqField('welcome durableSeq', m.durableSeq));
      if (m.checkpoint === undefined) o.u8(0);
      else {
        o.u8(1);
        o.u48(seqField('welcome checkpoint seq', m.checkpoint.seq));
        o.f64(m.checkpoint.time);
      }
      break;
    case 'refuse':
    case 'error':
      o.str(`${m.type} code`, m.code, 1, 64);
      o.str(`${m.type} message`, m.message, 2, MAX_TEXT_BYTES);
      break;
    case 'records':
      return encodeRecordsFrame(m.firstSeq, m.records.map((r) => [r]));
    case 'ack':
      o.u48(seqField('ack durableSeq', m.durableSeq));
      break;
    case 'manifestRequest':
      o.u32(m.id);
      o.str('manifestRequest volume', m.volume, 1, MAX_ID_BYTES);
      break;
    case 'manifest':
      o.u32(m.id);
      o.u8((m.last ? 1 : 0) | (m.error === undefined ? 0 : 2));
      if (m.error === undefined) o.raw(m.chunk);
      else o.str('manifest error', m.error, 2, MAX_TEXT_BYTES);
      break;
    case 'ping':
    case 'pong':
      if (m.nonce.length !== PING_BYTES) throw new ProtocolError('BadMessage', `${m.type} nonce is ${m.nonce.length} bytes, not ${PING_BYTES}`);
      o.raw(m.nonce);
      break;
  }
  return encodeFrame(MESSAGE_TYPES[m.type], o.parts);
}

/**
 * A RECORDS frame written straight from the buffered records, each given as the parts it was
 * encoded in (codec.ts, encodeRecordParts): one copy, into the frame.
 */
/** Bytes of the RECORDS frame encodeRecordsFrame makes of `records`. */
export function recordsFrameBytes(records: readonly (readonly Uint8Array[])[]): number {
  let length = HEADER_BYTES + 6 + 4 + 4 * records.length;
  for (const parts of records) for (const p of parts) length += p.length;
  return length;
}

/** A RECORDS frame, in new memory. */
export function encodeRecordsFrame(firstSeq: number, records: readonly (readonly Uint8Array[])[]): Buffer {
  seqField('records firstSeq', firstSeq);
  const frame = allocFrame(MESSAGE_TYPES.records, recordsFrameBytes(records) - HEADER_BYTES);
  let at = frame.writeUIntBE(firstSeq, HEADER_BYTES, 6);
  at = frame.writeUInt32BE(records.length, at);
  for (const parts of records) {
    const lengthAt = at;
    at += 4;
    for (const p of parts) {
      frame.set(p, at);
      at += p.length;
    }
    frame.writeUInt32BE(at - lengthAt - 4, lengthAt);
  }
  return sealFrame(frame);
}

/** Parts at least this long go to the socket as they are; shorter ones are copied together. */
const OWN_PART_BYTES = 4096;

/**
 * The same RECORDS frame as encodeRecordsFrame, as the pieces to write one after another: the
 * header and everything small copied into one buffer, each large part (a write's data) given as
 * it is. Nothing large is copied here: the socket reads each part where it is (a write's data may
 * be shared memory, which V8 copies at a quarter of the speed of other memory when the two
 * addresses are not aligned alike). The parts must not change until the socket has written them.
 * `lastPartCrcs[i]`, when given, is the CRC-32 of record i's last part (a write's data, as the
 * capture read it): combined into the frame's CRC instead of read again here.
 */
export function recordsFrameParts(firstSeq: number, records: readonly (readonly Uint8Array[])[], lastPartCrcs?: readonly (number | undefined)[]): { parts: Buffer[]; bytes: number } {
  seqField('records firstSeq', firstSeq);
  const bytes = recordsFrameBytes(records);
  let small = HEADER_BYTES + 6 + 4 + 4 * records.length;
  for (const parts of records) for (const p of parts) if (p.length < OWN_PART_BYTES) small += p.length;
  const glue = Buffer.allocUnsafe(small);
  writeFrameHeader(glue, MESSAGE_TYPES.records, bytes - HEADER_BYTES);
  const out: Buffer[] = [];
  let at = glue.writeUIntBE(firstSeq, HEADER_BYTES, 6);
  at = glue.writeUInt32BE(records.length, at);
  // Runs of glue go out between the large parts; the CRC covers the header's first 12 bytes, then
  // the payload in order.
  let runStart = 0;
  let crc = crc32(glue.subarray(0, 12));
  const endRun = (): void => {
    crc = crc32(glue.subarray(Math.max(runStart, HEADER_BYTES), at), crc);
    out.push(glue.subarray(runStart, at));
    runStart = at;
  };
  records.forEach((parts, i) => {
    let length = 0;
    for (const p of parts) length += p.length;
    at = glue.writeUInt32BE(length, at);
    const known = lastPartCrcs?.[i];
    parts.forEach((p, j) => {
      if (p.length < OWN_PART_BYTES) {
        glue.set(p, at);
        at += p.length;
        return;
      }
      endRun();
      const own = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      // The capture's CRC of a write's data (worked out where it read it) saves reading it here.
      crc = known !== undefined && j === parts.length - 1 ? crc32Combine(crc, known, own.length) : crc32(own, crc);
      out.push(own);
    });
  });
  if (at > runStart || out.length === 0) endRun();
  glue.writeUInt32BE(crc, 12);
  return { parts: out, bytes };
}

/**
 * A RECORDS frame's CRC record by record (frame.ts, PieceChecksum): the 10 bytes of firstSeq and
 * count, then each record's length and its bytes, whose own CRC is combined in, not read again.
 * Undefined for other types, and for a payload whose lengths do not add up (decodeMessage says
 * how).
 */
export const recordsPieceChecksum: PieceChecksum = (type, payload, seed) => {
  if (type !== MESSAGE_TYPES.records || payload.length < 10) return undefined;
  const count = payload.readUInt32BE(6);
  if (count === 0 || count * 4 > payload.length) return undefined;
  const pieces = new Uint32Array(count);
  let crc = crc32(payload.subarray(0, 10), seed);
  let at = 10;
  for (let i = 0; i < count; i++) {
    if (at + 4 > payload.length) return undefined;
    const length = payload.readUInt32BE(at);
    if (length > payload.length - at - 4) return undefined;
    crc = crc32(payload.subarray(at, at + 4), crc);
    at += 4;
    const own = crc32(payload.subarray(at, at + length));
    pieces[i] = own;
    crc = crc32Combine(crc, own, length);
    at += length;
  }
  return at === payload.length ? { crc, pieces } : undefined;
};

/** Bytes a RECORDS frame spends besides the records themselves. */
export const RECORDS_OVERHEAD = 16 + 6 + 4;
export const PER_RECORD_OVERHEAD = 4;

class In {
  private pos = 0;
  private readonly buf: Buffer;
  private readonly what: string;
  constructor(buf: Buffer, what: string) {
    this.buf = buf;
    this.what = what;
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError('BadMessage', `${this.what} payload (${this.buf.length} bytes) ends inside ${field}`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf.readUInt8(this.pos++);
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u48(field: string): number {
    this.need(6, field);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }
  f64(field: string): number {
    this.need(8, field);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  str(field: string, lengthBytes: 1 | 2, max: number): string {
    this.need(lengthBytes, `${field} length`);
    const len = this.buf.readUIntBE(this.pos, lengthBytes);
    this.pos += lengthBytes;
    if (len > max) throw new ProtocolError('BadMessage', `${this.what} ${field} is ${len} bytes, more than ${max}`);
    const b = this.bytes(len, field);
    const s = b.toString('utf8');
    if (Buffer.byteLength(s) !== len) throw new ProtocolError('BadMessage', `${this.what} ${field} is not valid UTF-8`);
    return s;
  }
  rest(): Buffer {
    const b = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return b;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new ProtocolError('BadMessage', `${this.buf.length - this.pos} bytes left over after the ${this.what} fields`);
  }
}

/** Decodes and checks a frame's payload. */
export function decodeMessage(frame: Frame): Message {
  const name = NAME_OF.get(frame.type);
  if (name === undefined) throw new ProtocolError('UnknownType', `message type ${frame.type} is not one of 1..${NAME_OF.size}`);
  const r = new In(frame.payload, name);
  let m: Message;
  switch (name) {
    case 'hello': {
      const vpg = r.str('vpg', 1, MAX_ID_BYTES);
      const token = r.str('token', 2, MAX_TOKEN_BYTES);
      m = { type: 'hello', vpg, token, senderId: r.str('senderId', 1, MAX_ID_BYTES) };
      if (vpg === '') throw new ProtocolError('BadMessage', 'hello vpg is empty');
      break;
    }
    case 'welcome': {
      const durableSeq = r.u48('durableSeq');
      const has = r.u8('checkpoint flag');
      if (has > 1) throw new ProtocolError('BadMessage', `welcome checkpoint flag is ${has}, not 0 or 1`);
      if (has === 0) m = { type: 'welcome', durableSeq };
      else {
        const seq = r.u48('checkpoint seq');
        const time = r.f64('checkpoint time');
        if (!Number.isFinite(time) || time < 0) throw new ProtocolError('BadMessage', `welcome checkpoint time ${time} is not a time`);
        if (seq > durableSeq) throw new ProtocolError('BadMessage', `welcome checkpoint seq ${seq} is after durableSeq ${durableSeq}`);
        m = { type: 'welcome', durableSeq, checkpoint: { seq, time } };
      }
      break;
    }
    case 'refuse':
    case 'error': {
      const code = r.str('code', 1, 64);
      m = { type: name, code, message: r.str('message', 2, MAX_TEXT_BYTES) };
      break;
    }
    case 'records': {
      const firstSeq = r.u48('firstSeq');
      const count = r.u32('count');
      if (count === 0) throw new ProtocolError('BadMessage', 'records batch is empty');
      if (firstSeq === 0 || firstSeq + count - 1 > MAX_UINT48) throw new ProtocolError('BadMessage', `records seqs ${firstSeq}..${firstSeq + count - 1} are outside 1..${MAX_UINT48}`);
      // Each record takes at least its 4-byte length: a count the payload cannot hold is refused
      // before anything is allocated for it.
      if (count * 4 > frame.payload.length) throw new ProtocolError('BadMessage', `records count ${count} does not fit a ${frame.payload.length}-byte payload`);
      const records: Buffer[] = new Array<Buffer>(count);
      for (let i = 0; i < count; i++) {
        const len = r.u32(`length of record ${i} (seq ${firstSeq + i})`);
        if (len === 0) throw new ProtocolError('BadMessage', `record ${i} (seq ${firstSeq + i}) is empty`);
        records[i] = r.bytes(len, `record ${i} (seq ${firstSeq + i})`);
      }
      m = frame.pieceCrcs?.length === count ? { type: 'records', firstSeq, records, crcs: frame.pieceCrcs } : { type: 'records', firstSeq, records };
      break;
    }
    case 'ack':
      m = { type: 'ack', durableSeq: r.u48('durableSeq') };
      break;
    case 'manifestRequest': {
      const id = r.u32('id');
      m = { type: 'manifestRequest', id, volume: r.str('volume', 1, MAX_ID_BYTES) };
      break;
    }
    case 'manifest': {
      const id = r.u32('id');
      const flags = r.u8('flags');
      if ((flags & ~3) !== 0) throw new ProtocolError('BadMessage', `manifest flags ${flags} has unknown bits`);
      const last = (flags & 1) !== 0;
      if ((flags & 2) !== 0) {
        if (!last) throw new ProtocolError('BadMessage', 'manifest error chunk is not the last');
        m = { type: 'manifest', id, last, chunk: Buffer.alloc(0), error: r.str('error', 2, MAX_TEXT_BYTES) };
      } else m = { type: 'manifest', id, last, chunk: r.rest() };
      break;
    }
    case 'ping':
    case 'pong':
      m = { type: name, nonce: r.bytes(PING_BYTES, 'nonce') };
      break;
  }
  r.end();
  return m;
}
