// The binary form of a record: one encoding for the wire and the journal. Everything decoded is
// checked (types, lengths, paths, bounds) so a hostile peer or a corrupted file yields a
// CodecError that says what is wrong, never an exception from deep inside or a path outside.
//
//   record     := u8 type | u8 flags | body
//   op body    := u8 volumeLen | volume | fields of the op (below)
//   checkpoint := f64 time | str16 tag | u16 n | n × (u8 len | volume | 32-byte digest)
//   str16      := u16 byteLength | UTF-8
//   u48        := 6 bytes big-endian
//
//   mkdir     u32 mode | str16 path            create    u48 id | u32 mode | str16 path
//   symlink   str16 path | str16 target        write     u48 id | u48 offset | u32 rawLength | data
//   truncate  u48 id | u48 size                rename    str16 from | str16 to
//   unlink    str16 path                       chmod     u32 mode | str16 path
//   digest    u48 id | u48 size | 32-byte digest
//
// A write's data is zstd-compressed when flags bit 0 is set (then rawLength is its size after
// decompression, and decompression stops there: no zip bombs).
import { constants, zstdCompressSync, zstdDecompressSync, type ZstdOptions } from 'node:zlib';
import { DIGEST_BYTES } from './hash.ts';
import { MAX_UINT48, MAX_WRITE_BYTES, MODE_MASK, type CheckpointMark, type Op, type OpName, type Record } from './ops.ts';
import { checkLinkTarget, checkPath, volumeNameProblem } from './paths.ts';

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

const OP_TYPES: readonly OpName[] = ['mkdir', 'create', 'symlink', 'write', 'truncate', 'rename', 'unlink', 'chmod', 'digest'];
const TYPE_OF = new Map<OpName, number>(OP_TYPES.map((name, i) => [name, i + 1]));
export const CHECKPOINT_TYPE = 10;
const FLAG_ZSTD = 1;
const MAX_TAG_BYTES = 253;
const MAX_VOLUMES = 4096;

export interface EncodeOptions {
  /** Compress write data with zstd when that saves at least an eighth of it; default false. */
  compress?: boolean;
  /** zstd level; default 1 (the fastest: replication is limited by CPU long before ratio). */
  level?: number;
  /** A stream's record of how its samples went: lets it skip sampling in a run of incompressible writes. */
  probe?: CompressionProbe;
}

/** Writes big-endian fields into a buffer that grows as needed (sized right in the usual case). */
class Writer {
  private buf: Buffer;
  private pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(v: number): void {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  /** Overwrites a byte already written (a flags byte known only later). */
  setU8(at: number, v: number): void {
    this.buf.writeUInt8(v, at);
  }
  u16(v: number): void {
    const at = this.room(2);
    this.buf.writeUInt16BE(v, at);
  }
  u32(v: number): void {
    const at = this.room(4);
    this.buf.writeUInt32BE(v, at);
  }
  u48(v: number): void {
    const at = this.room(6);
    this.buf.writeUIntBE(v, at, 6);
  }
  f64(v: number): void {
    const at = this.room(8);
    this.buf.writeDoubleBE(v, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.room(b.length); // first: it may replace this.buf
    this.buf.set(b, at);
  }
  str8(s: string): void {
    const b = Buffer.from(s);
    this.u8(b.length);
    this.bytes(b);
  }
  str16(s: string): void {
    const b = Buffer.from(s);
    this.u16(b.length);
    this.bytes(b);
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function strBytes(s: string): number {
  return Buffer.byteLength(s);
}

function checkUint(field: string, v: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new CodecError(`${field} ${v} is not an integer in 0..${max}`);
  return v;
}

function checkMode(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MODE_MASK) throw new CodecError(`${field} ${v} is not a permission mode (0..0o7777)`);
  return v;
}

function checkVolume(field: string, name: string): string {
  const problem = volumeNameProblem(name);
  if (problem !== undefined) throw new CodecError(`${field} ${JSON.stringify(name.slice(0, 64))} ${problem}`);
  return name;
}

function withPath<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    if (err instanceof CodecError) throw err;
    throw new CodecError((err as Error).message);
  }
}

const SAMPLE_BYTES = 4096;

/**
 * Whether compressing `data` (larger than a few samples) is worth trying: one 4 KiB sample from
 * the middle is compressed first, and data whose sample does not shrink by an eighth
 * (encrypted, already compressed, media) is sent as it is — zstd spends as long failing on such
 * data as it spends compressing text, and most of a changed database or image block is one or the
 * other throughout.
 */
function worthCompressing(data: Uint8Array, level: number): boolean {
  const start = Math.floor((data.length - SAMPLE_BYTES) / 2);
  const sample = data.subarray(start, start + SAMPLE_BYTES);
  const packed = zstdCompressSync(sample, compressOptions(SAMPLE_BYTES, level));
  return packed.length <= SAMPLE_BYTES - (SAMPLE_BYTES >> 3);
}

/** Samples in a row that did not compress before a probe starts skipping writes. */
const MISSES_BEFORE_SKIPPING = 8;
/** The most writes skipped between two samples. */
const MAX_SKIP = 16;

/**
 * How a stream's recent samples went. A run of writes whose samples do not compress is most
 * likely more of the same (a volume of media, backups, encrypted files): after 8 such samples in
 * a row, the next write goes unsampled, then 2, 4, 8, and at most 16 between two samples. A sample
 * that compresses ends the skipping at once. Each skipped write is sent as it is, which costs
 * ratio only when compressible data follows incompressible data: at most 16 writes. A sample
 * costs ~50 µs, most of it Node setting up a zstd stream for each call, and was a fifth of the
 * source VRA's main thread in a delta of incompressible data.
 */
export class CompressionProbe {
  private misses = 0;
  private skip = 0;
  /** Writes sampled, and writes sent without a sample. */
  sampled = 0;
  skipped = 0;

  /** Whether to sample the next write; false: send it as it is. */
  shouldSample(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    this.skipped++;
    return false;
  }

  /** What the sample said. */
  record(compressible: boolean): void {
    this.sampled++;
    if (compressible) {
      this.misses = 0;
      return;
    }
    this.misses++;
    if (this.misses >= MISSES_BEFORE_SKIPPING) this.skip = Math.min(MAX_SKIP, 2 ** (this.misses - MISSES_BEFORE_SKIPPING));
  }
}

/**
 * `data` compressed when that saves at least an eighth of it, else undefined (sent as it is).
 * Larger writes are judged by a sample first. A small write (under four samples) is its own
 * sample: compressed whole when the probe lets it be tried, and what that showed counts like a
 * sample. A delta of a tree of small files is mostly such writes (the changed tail of a file),
 * and compressing each of them whole was a twentieth of the source's main thread when none of
 * them compressed.
 */
function compressWrite(data: Uint8Array, level: number, probe: CompressionProbe | undefined): Buffer | undefined {
  const small = data.length < 4 * SAMPLE_BYTES;
  if (probe !== undefined && !probe.shouldSample()) return undefined;
  if (!small) {
    const worth = worthCompressing(data, level);
    probe?.record(worth);
    if (!worth) return undefined;
  }
  const packed = zstdCompressSync(data, compressOptions(data.length, level));
  const shrank = packed.length <= data.length - (data.length >> 3);
  if (small) probe?.record(shrank);
  return shrank ? packed : undefined;
}

/**
 * The input's size told to zstd up front, so it sizes its window and tables to the input instead
 * of to the level's defaults: compressing a 4 KiB sample in a VRA took 17 µs instead of 28 (6 600
 * samples of incompressible writes). Node's zlib builds a new stream for every call; that part,
 * another ~35 µs per sample, has no public way around it.
 */
function compressOptions(size: number, level: number): ZstdOptions {
  return { pledgedSrcSize: size, params: { [constants.ZSTD_c_compressionLevel]: level } };
}

/** Encodes a record; the input is checked the same way decoding checks it. */
export function encodeRecord(record: Record, options: EncodeOptions = {}): Buffer {
  const parts = encodeRecordParts(record, options);
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
}

/** A record's encoding in parts that, joined, are encodeRecord's bytes. */
export type RecordParts = readonly Buffer[];

export function recordLength(parts: RecordParts): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/**
 * Encodes a record without copying a write's data when it goes as it is (not compressed): the
 * parts are then the header and that data itself, which must not change while the parts are in
 * use. Shipping 100 MB of changes then allocates and copies 100 MB less on the way to the frame.
 */
export function encodeRecordParts(record: Record, options: EncodeOptions = {}): RecordParts {
  if (record.kind === 'checkpoint') return [encodeCheckpoint(record.checkpoint)];
  const { volume, op } = record;
  checkVolume('volume', volume);
  const type = TYPE_OF.get(op.op);
  if (type === undefined) throw new CodecError(`unknown op ${JSON.stringify((op as { op: unknown }).op)}`);
  const w = new Writer(64 + strBytes(volume));
  w.u8(type);
  w.u8(0); // flags: set below for a compressed write
  w.str8(volume);
  const path = (field: string, v: string): string => withPath(() => checkPath(field, v));
  switch (op.op) {
    case 'mkdir':
    case 'chmod':
      w.u32(checkMode(`${op.op} mode`, op.mode));
      w.str16(path(`${op.op} path`, op.path));
      break;
    case 'create':
      w.u48(checkUint('create id', op.id, MAX_UINT48));
      w.u32(checkMode('create mode', op.mode));
      w.str16(path('create path', op.path));
      break;
    case 'symlink':
      w.str16(path('symlink path', op.path));
      w.str16(withPath(() => checkLinkTarget('symlink target', op.target)));
      break;
    case 'write': {
      checkUint('write id', op.id, MAX_UINT48);
      checkUint('write offset', op.offset, MAX_UINT48);
      if (op.data.length > MAX_WRITE_BYTES) throw new CodecError(`write data is ${op.data.length} bytes, more than ${MAX_WRITE_BYTES}`);
      checkUint('write end', op.offset + op.data.length, MAX_UINT48);
      w.u48(op.id);
      w.u48(op.offset);
      w.u32(op.data.length);
      const packed = options.compress === true && op.data.length >= 512 ? compressWrite(op.data, options.level ?? 1, options.probe) : undefined;
      if (packed !== undefined) {
        // Copied: zstd's output may be a view into a larger buffer of its own.
        w.setU8(1, FLAG_ZSTD);
        w.bytes(packed);
        return [w.done()];
      }
      return [w.done(), Buffer.from(op.data.buffer, op.data.byteOffset, op.data.byteLength)];
    }
    case 'truncate':
      w.u48(checkUint('truncate id', op.id, MAX_UINT48));
      w.u48(checkUint('truncate size', op.size, MAX_UINT48));
      break;
    case 'rename':
      w.str16(path('rename from', op.from));
      w.str16(path('rename to', op.to));
      break;
    case 'unlink':
      w.str16(path('unlink path', op.path));
      break;
    case 'digest':
      w.u48(checkUint('digest id', op.id, MAX_UINT48));
      w.u48(checkUint('digest size', op.size, MAX_UINT48));
      if (op.digest.length !== DIGEST_BYTES) throw new CodecError(`digest is ${op.digest.length} bytes, not ${DIGEST_BYTES}`);
      w.bytes(op.digest);
      break;
  }
  return [w.done()];
}

function encodeCheckpoint(mark: CheckpointMark): Buffer {
  if (!Number.isFinite(mark.time) || mark.time < 0) throw new CodecError(`checkpoint time ${mark.time} is not a time`);
  if (strBytes(mark.tag) > MAX_TAG_BYTES) throw new CodecError(`checkpoint tag is longer than ${MAX_TAG_BYTES} bytes`);
  if (mark.volumes.length > MAX_VOLUMES) throw new CodecError(`checkpoint names ${mark.volumes.length} volumes, more than ${MAX_VOLUMES}`);
  const w = new Writer(64 + mark.volumes.length * (64 + DIGEST_BYTES));
  w.u8(CHECKPOINT_TYPE);
  w.u8(0);
  w.f64(mark.time);
  w.str16(mark.tag);
  w.u16(mark.volumes.length);
  for (const v of mark.volumes) {
    checkVolume('checkpoint volume', v.volume);
    if (v.digest.length !== DIGEST_BYTES) throw new CodecError(`checkpoint digest of ${v.volume} is ${v.digest.length} bytes, not ${DIGEST_BYTES}`);
    w.str8(v.volume);
    w.bytes(v.digest);
  }
  return w.done();
}

class Reader {
  pos = 0;
  private readonly buf: Buffer;
  /** Whether bytes() and rest() return copies instead of views (the caller reuses `buf`). */
  private readonly own: boolean;
  constructor(buf: Buffer, own = false) {
    this.buf = buf;
    this.own = own;
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new CodecError(`record ends inside ${what} (${this.buf.length} bytes)`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u48(what: string): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return this.own ? Buffer.from(b) : b;
  }
  /** The rest of the record as a view, whatever `own` says: for data that is decompressed anyway. */
  restView(): Buffer {
    const b = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return b;
  }
  str(len: number, what: string): string {
    const b = this.bytes(len, what);
    const s = b.toString('utf8');
    if (Buffer.byteLength(s) !== len) throw new CodecError(`${what} is not valid UTF-8`);
    return s;
  }
  str8(what: string): string {
    return this.str(this.u8(`${what} length`), what);
  }
  str16(what: string): string {
    return this.str(this.u16(`${what} length`), what);
  }
  rest(): Buffer {
    const b = this.restView();
    return this.own ? Buffer.from(b) : b;
  }
  end(what: string): void {
    if (this.pos !== this.buf.length) throw new CodecError(`${this.buf.length - this.pos} bytes left over after ${what}`);
  }
}

/** The record's type byte: a checkpoint or which op, without decoding (and decompressing) it. */
export function recordType(bytes: Uint8Array): 'checkpoint' | OpName {
  const type = bytes[0];
  if (type === CHECKPOINT_TYPE) return 'checkpoint';
  const name = type === undefined ? undefined : OP_TYPES[type - 1];
  if (name === undefined) throw new CodecError(`unknown record type ${type ?? '(empty record)'}`);
  return name;
}

export interface DecodeOptions {
  /**
   * The record shares no memory with `bytes` (write data and digests are copies), so the caller
   * may reuse `bytes` at once: a replay reads the journal through one buffer. Compressed data is
   * decompressed into new memory anyway and costs no copy.
   */
  own?: boolean;
}

/** Decodes and checks one record. */
export function decodeRecord(bytes: Uint8Array, options: DecodeOptions = {}): Record {
  return decode(bytes, options.own ?? false);
}

/**
 * Checks a record in full, as decodeRecord does (compressed data is decompressed and measured,
 * then dropped): what a receiver runs on everything from the wire before it journals it, since a
 * record that would fail later, at apply or recovery time, must never be acknowledged. zstd
 * decompresses at several times the link's speed, so this costs little.
 */
export function checkRecord(bytes: Uint8Array): Record {
  return decode(bytes);
}

function decode(bytes: Uint8Array, own = false): Record {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, own);
  const typeName = recordType(buf);
  r.pos = 1;
  const flags = r.u8('flags');
  if (typeName === 'checkpoint') {
    if (flags !== 0) throw new CodecError(`checkpoint has unknown flags ${flags}`);
    const time = r.f64('checkpoint time');
    if (!Number.isFinite(time) || time < 0) throw new CodecError(`checkpoint time ${time} is not a time`);
    const tag = r.str16('checkpoint tag');
    if (Buffer.byteLength(tag) > MAX_TAG_BYTES) throw new CodecError(`checkpoint tag is longer than ${MAX_TAG_BYTES} bytes`);
    const n = r.u16('checkpoint volume count');
    if (n > MAX_VOLUMES) throw new CodecError(`checkpoint names ${n} volumes, more than ${MAX_VOLUMES}`);
    const volumes: { volume: string; digest: Uint8Array }[] = [];
    for (let i = 0; i < n; i++) {
      const volume = checkVolume('checkpoint volume', r.str8('checkpoint volume'));
      volumes.push({ volume, digest: r.bytes(DIGEST_BYTES, 'checkpoint digest') });
    }
    r.end('checkpoint');
    return { kind: 'checkpoint', checkpoint: { time, tag, volumes } };
  }
  if ((typeName === 'write' ? flags & ~FLAG_ZSTD : flags) !== 0) throw new CodecError(`${typeName} has unknown flags ${flags}`);
  const volume = checkVolume('volume', r.str8('volume'));
  const op = withPath((): Op => {
    switch (typeName) {
      case 'mkdir':
      case 'chmod': {
        const mode = checkMode(`${typeName} mode`, r.u32(`${typeName} mode`));
        return { op: typeName, mode, path: checkPath(`${typeName} path`, r.str16(`${typeName} path`)) };
      }
      case 'create': {
        const id = r.u48('create id');
        const mode = checkMode('create mode', r.u32('create mode'));
        return { op: 'create', id, mode, path: checkPath('create path', r.str16('create path')) };
      }
      case 'symlink': {
        const path = checkPath('symlink path', r.str16('symlink path'));
        return { op: 'symlink', path, target: checkLinkTarget('symlink target', r.str16('symlink target')) };
      }
      case 'write': {
        const id = r.u48('write id');
        const offset = r.u48('write offset');
        const rawLength = r.u32('write length');
        if (rawLength > MAX_WRITE_BYTES) throw new CodecError(`write length ${rawLength} is more than ${MAX_WRITE_BYTES}`);
        checkUint('write end', offset + rawLength, MAX_UINT48);
        const compressed = (flags & FLAG_ZSTD) !== 0;
        const stored = compressed ? r.restView() : r.rest();
        let data: Buffer;
        if (compressed) {
          try {
            // One output buffer of the known size (plus the byte that shows the end): zlib's default
            // 16 KiB chunks concatenated cost twice the decompression itself for a 1 MiB write.
            data = zstdDecompressSync(stored, { maxOutputLength: Math.max(rawLength, 1), chunkSize: Math.max(rawLength + 1, 64) });
          } catch (err: unknown) {
            throw new CodecError(`write data does not decompress: ${(err as Error).message}`);
          }
        } else {
          data = stored;
        }
        if (data.length !== rawLength) throw new CodecError(`write data is ${data.length} bytes, the record says ${rawLength}`);
        return { op: 'write', id, offset, data };
      }
      case 'truncate':
        return { op: 'truncate', id: r.u48('truncate id'), size: r.u48('truncate size') };
      case 'rename': {
        const from = checkPath('rename from', r.str16('rename from'));
        return { op: 'rename', from, to: checkPath('rename to', r.str16('rename to')) };
      }
      case 'unlink':
        return { op: 'unlink', path: checkPath('unlink path', r.str16('unlink path')) };
      case 'digest':
        return { op: 'digest', id: r.u48('digest id'), size: r.u48('digest size'), digest: r.bytes(DIGEST_BYTES, 'digest') };
    }
  });
  r.end(typeName);
  return { kind: 'op', volume, op };
}
