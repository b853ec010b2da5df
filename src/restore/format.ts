// The export stream (README.md, "The format"): what `GET /v1/exports/{id}` on a recovery VRA sends
// and `zcsp restore` reads. It is the replication protocol's framing (../replicator/wire/frame.ts:
// 16-byte header, CRC-32 over header and payload, streaming decoder) under its own magic "ZCSX",
// carrying a small archive: a header, the volume's entries in tree order with each file's content
// in chunks and its SHA-256, and an end marker with the totals. This file is the messages only;
// reader.ts checks their order and checksums, send.ts writes them from a tree.
import { encodeFrame, type Frame, type FrameFormat } from '../replicator/wire/frame.ts';
import { MAX_UINT48, MODE_MASK } from '../replicator/ops.ts';
import { checkLinkTarget, checkPath, PathError } from '../replicator/paths.ts';

// Version 2: the volume digest in the header is over XXH3-128 block hashes (../replicator/hash.ts).
export const EXPORT_FRAMES: FrameFormat = { magic: 0x5a435358, name: 'ZCSX', version: 2, maxPayload: 2 * 1024 * 1024 };
/** Content is sent in chunks of this size (the last one of a file shorter). */
export const CHUNK_BYTES = 1024 * 1024;
export const SHA256_BYTES = 32;
/** The media type of the response, so a client knows what it is reading. */
export const EXPORT_CONTENT_TYPE = 'application/vnd.zcsp.export.v1';
const MAX_ERROR_BYTES = 16 * 1024;

export const MESSAGE_TYPES = {
  header: 1,
  dir: 2,
  file: 3,
  data: 4,
  hole: 5,
  checksum: 6,
  symlink: 7,
  link: 8,
  image: 9,
  end: 10,
  error: 11,
} as const;
type TypeName = keyof typeof MESSAGE_TYPES;
const NAME_OF = new Map<number, TypeName>(Object.entries(MESSAGE_TYPES).map(([name, n]) => [n, name as TypeName]));

export interface Totals {
  /** Entries sent: folders, files, symlinks, hard links (a block volume: 1, its image). */
  entries: number;
  /** Files whose content was sent (a hard link's is not sent again; the image counts as one). */
  files: number;
  /** Their content bytes. */
  bytes: number;
}

export interface ExportHeader {
  format: 1;
  exportId: string;
  stream: string;
  volume: string;
  kind: 'fs' | 'block';
  checkpoint: { seq: number; time: string; tag?: string };
  /** The checkpoint's digest of this volume as the source computed it at capture (hex). */
  digest: string;
  totals: Totals;
}

export type ExportMessage =
  | { type: 'header'; header: ExportHeader }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number }
  | { type: 'data'; data: Buffer }
  | { type: 'hole'; length: number }
  | { type: 'checksum'; sha256: Buffer }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'link'; path: string; existing: string }
  | { type: 'image'; size: number }
  | { type: 'end'; totals: Totals }
  | { type: 'error'; message: string };

/** A stream that is not a valid export, or that failed; `code` is stable, the message says where. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
  readonly code: 'BadFrame' | 'BadMessage' | 'Order' | 'Checksum' | 'Totals' | 'Truncated' | 'Remote';
  constructor(code: ExportError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export function encodeMessage(m: ExportMessage): Buffer {
  const t = MESSAGE_TYPES[m.type];
  switch (m.type) {
    case 'header':
      return encodeFrame(t, [Buffer.from(JSON.stringify(m.header))], EXPORT_FRAMES);
    case 'dir':
      return encodeFrame(t, [u32(m.mode), str16(m.path)], EXPORT_FRAMES);
    case 'file':
      return encodeFrame(t, [u32(m.mode), u48(m.size), str16(m.path)], EXPORT_FRAMES);
    case 'data':
      return encodeFrame(t, [m.data], EXPORT_FRAMES);
    case 'hole':
    case 'image':
      return encodeFrame(t, [u48(m.type === 'hole' ? m.length : m.size)], EXPORT_FRAMES);
    case 'checksum':
      return encodeFrame(t, [m.sha256], EXPORT_FRAMES);
    case 'symlink':
      return encodeFrame(t, [str16(m.path), str16(m.target)], EXPORT_FRAMES);
    case 'link':
      return encodeFrame(t, [str16(m.path), str16(m.existing)], EXPORT_FRAMES);
    case 'end':
      return encodeFrame(t, [u48(m.totals.entries), u48(m.totals.files), u48(m.totals.bytes)], EXPORT_FRAMES);
    case 'error':
      return encodeFrame(t, [Buffer.from(m.message).subarray(0, MAX_ERROR_BYTES)], EXPORT_FRAMES);
  }
}

/** A frame's message, every field checked (paths too: nothing outside the target can be named). */
export function decodeMessage(frame: Frame): ExportMessage {
  const type = NAME_OF.get(frame.type);
  if (type === undefined) throw new ExportError('BadMessage', `unknown message type ${frame.type}`);
  const c = new Cursor(type, frame.payload);
  try {
    return decodeAs(type, c);
  } catch (err: unknown) {
    if (err instanceof PathError) throw new ExportError('BadMessage', `${type}: ${err.message}`);
    throw err;
  }
}

function decodeAs(type: TypeName, c: Cursor): ExportMessage {
  switch (type) {
    case 'header':
      return { type, header: parseHeader(c.rest()) };
    case 'dir': {
      const mode = c.mode();
      return c.done({ type, mode, path: checkPath('path', c.str16()) });
    }
    case 'file': {
      const mode = c.mode();
      const size = c.u48();
      return c.done({ type, mode, size, path: checkPath('path', c.str16()) });
    }
    case 'data': {
      const data = c.rest();
      if (data.length === 0) throw new ExportError('BadMessage', 'data: empty');
      return { type, data };
    }
    case 'hole': {
      const length = c.u48();
      if (length === 0) throw new ExportError('BadMessage', 'hole: length 0');
      return c.done({ type, length });
    }
    case 'image':
      return c.done({ type, size: c.u48() });
    case 'checksum':
      return c.done({ type, sha256: c.take(SHA256_BYTES) });
    case 'symlink': {
      const path = checkPath('path', c.str16());
      return c.done({ type, path, target: checkLinkTarget('target', c.str16()) });
    }
    case 'link': {
      const path = checkPath('path', c.str16());
      return c.done({ type, path, existing: checkPath('existing', c.str16()) });
    }
    case 'end':
      return c.done({ type, totals: { entries: c.u48(), files: c.u48(), bytes: c.u48() } });
    case 'error':
      return { type, message: c.rest().toString('utf8') };
  }
}

function parseHeader(payload: Buffer): ExportHeader {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ExportError('BadMessage', 'header: not JSON');
  }
  const h = v as Partial<ExportHeader> | null;
  const cp = h?.checkpoint;
  const t = h?.totals;
  const count = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
  if (h?.format !== 1) throw new ExportError('BadMessage', `header: format ${JSON.stringify(h?.format)} is not 1 (a newer VRA? upgrade zcsp)`);
  if (typeof h.exportId !== 'string' || typeof h.stream !== 'string' || typeof h.volume !== 'string' || (h.kind !== 'fs' && h.kind !== 'block')
    || typeof h.digest !== 'string' || !/^[0-9a-f]{64}$/.test(h.digest)
    || cp === undefined || !count(cp.seq) || typeof cp.time !== 'string' || (cp.tag !== undefined && typeof cp.tag !== 'string')
    || t === undefined || !count(t.entries) || !count(t.files) || !count(t.bytes)) {
    throw new ExportError('BadMessage', 'header: a field is missing or of the wrong type');
  }
  return h as ExportHeader;
}

class Cursor {
  readonly #type: string;
  readonly #buf: Buffer;
  #pos = 0;
  constructor(type: string, buf: Buffer) {
    this.#type = type;
    this.#buf = buf;
  }
  take(n: number): Buffer {
    if (this.#pos + n > this.#buf.length) throw new ExportError('BadMessage', `${this.#type}: payload of ${this.#buf.length} bytes is cut short`);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  u48(): number {
    return this.take(6).readUIntBE(0, 6);
  }
  mode(): number {
    const mode = this.take(4).readUInt32BE(0);
    if (mode > MODE_MASK) throw new ExportError('BadMessage', `${this.#type}: mode 0o${mode.toString(8)} is not a permission mode`);
    return mode;
  }
  str16(): string {
    const n = this.take(2).readUInt16BE(0);
    return this.take(n).toString('utf8');
  }
  rest(): Buffer {
    const out = this.#buf.subarray(this.#pos);
    this.#pos = this.#buf.length;
    return out;
  }
  done<T>(value: T): T {
    if (this.#pos !== this.#buf.length) throw new ExportError('BadMessage', `${this.#type}: ${this.#buf.length - this.#pos} bytes after the last field`);
    return value;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v);
  return b;
}

function u48(v: number): Buffer {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_UINT48) throw new RangeError(`${v} does not fit 48 bits`);
  const b = Buffer.allocUnsafe(6);
  b.writeUIntBE(v, 0, 6);
  return b;
}

function str16(s: string): Buffer {
  const b = Buffer.from(s);
  if (b.length > 0xffff) throw new RangeError(`a string of ${b.length} bytes does not fit 16 bits`);
  return Buffer.concat([u48(b.length).subarray(4), b]);
}
