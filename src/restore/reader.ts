// Reads an export stream (format.ts) whatever its chunking and hands on only what is proven so far:
// frames whose CRC matches, entries in an order that can be created safely (a path's parent is a
// folder sent before it, no path twice, a hard link names a file sent before), each file's content
// exactly its size and its SHA-256 checked before the file counts as done, and an end marker
// whose totals match both what arrived and what the header announced. Errors name the entry.
import { createHash, type Hash } from 'node:crypto';
import { FrameDecoder, ProtocolError } from '../replicator/wire/frame.ts';
import { CHUNK_BYTES, decodeMessage, EXPORT_FRAMES, ExportError, type ExportHeader, type Totals } from './format.ts';

export type ExportEvent =
  | { type: 'header'; header: ExportHeader }
  | { type: 'dir'; path: string; mode: number }
  /** A file (or, path '', the image) begins: its content follows as data and holes. */
  | { type: 'file'; path: string; mode: number; size: number }
  | { type: 'data'; offset: number; data: Buffer }
  | { type: 'hole'; offset: number; length: number }
  /** The content of the current file is complete and its checksum matched. */
  | { type: 'file-end'; path: string; size: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'link'; path: string; existing: string }
  | { type: 'end'; totals: Totals };

interface Content {
  path: string;
  size: number;
  offset: number;
  hash: Hash;
}

const ZEROS = Buffer.alloc(CHUNK_BYTES);

export class ExportReader {
  readonly #frames = new FrameDecoder(EXPORT_FRAMES);
  #header: ExportHeader | undefined;
  #content: Content | undefined;
  #ended = false;
  #last = '';
  readonly #dirs = new Set<string>();
  readonly #files = new Set<string>();
  readonly #paths = new Set<string>();
  readonly #counted: Totals = { entries: 0, files: 0, bytes: 0 };

  get header(): ExportHeader | undefined {
    return this.#header;
  }

  /** What arrived so far (content bytes include the current file's). */
  get progress(): Totals {
    return { ...this.#counted, bytes: this.#counted.bytes + (this.#content?.offset ?? 0) };
  }

  /** Where in the stream we are, for messages: "inside x (byte 5 of 9)" or "after entry y". */
  where(): string {
    const c = this.#content;
    if (c !== undefined) return `inside ${label(c.path)} (at byte ${c.offset} of ${c.size})`;
    if (this.#header === undefined) return 'before the header';
    return this.#last === '' ? 'before the first entry' : `after ${label(this.#last)} (${this.#counted.entries} of ${this.#header.totals.entries} entries)`;
  }

  push(chunk: Buffer): ExportEvent[] {
    const events: ExportEvent[] = [];
    try {
      this.#frames.pushEach(chunk, (frame) => this.#take(decodeMessage(frame), events));
    } catch (err: unknown) {
      if (err instanceof ProtocolError) throw new ExportError('BadFrame', `${err.message}, ${this.where()}`);
      throw err;
    }
    return events;
  }

  /** The stream ended: anything short of the end marker is a truncated export. */
  end(): void {
    if (this.#ended) return;
    throw new ExportError('Truncated', `the export stream ended early, ${this.where()}`);
  }

  #take(m: ReturnType<typeof decodeMessage>, out: ExportEvent[]): void {
    if (m.type === 'error') throw new ExportError('Remote', `the VRA stopped the export ${this.where()}: ${m.message}`);
    if (this.#ended) throw new ExportError('Order', `a ${m.type} message after the end marker`);
    if (m.type === 'header') {
      if (this.#header !== undefined) throw new ExportError('Order', 'a second header');
      this.#header = m.header;
      out.push(m);
      return;
    }
    const header = this.#header;
    if (header === undefined) throw new ExportError('Order', `the stream starts with a ${m.type} message, not the header`);
    const content = this.#content;
    if (content !== undefined) {
      this.#takeContent(content, m, out);
      return;
    }
    switch (m.type) {
      case 'dir':
      case 'symlink':
      case 'link':
      case 'file':
        if (header.kind !== 'fs') throw new ExportError('Order', `a ${m.type} message in the export of a block volume`);
        this.#claim(m.path, m.type);
        if (m.type === 'dir') this.#dirs.add(m.path);
        if (m.type === 'link' && !this.#files.has(m.existing)) throw new ExportError('Order', `hard link ${label(m.path)} names ${label(m.existing)}, which is not a file sent before it`);
        if (m.type === 'file') {
          this.#files.add(m.path);
          this.#begin(m.path, m.size);
        } else if (m.type === 'link') this.#files.add(m.path);
        out.push(m);
        return;
      case 'image':
        if (header.kind !== 'block' || this.#counted.entries > 0) throw new ExportError('Order', 'an image message that is not the one entry of a block volume\'s export');
        this.#claim('', 'image');
        this.#begin('', m.size);
        out.push({ type: 'file', path: '', mode: 0o600, size: m.size });
        return;
      case 'end':
        this.#finish(header, m.totals);
        out.push(m);
        return;
      default:
        throw new ExportError('Order', `a ${m.type} message outside a file, ${this.where()}`);
    }
  }

  #claim(path: string, what: string): void {
    if (this.#paths.has(path)) throw new ExportError('Order', `${label(path)} is sent twice`);
    const slash = path.lastIndexOf('/');
    if (slash >= 0 && !this.#dirs.has(path.slice(0, slash))) {
      throw new ExportError('Order', `${what} ${label(path)} comes before its folder ${label(path.slice(0, slash))} (or its parent is not a folder)`);
    }
    this.#paths.add(path);
    this.#counted.entries++;
    this.#last = path;
  }

  #begin(path: string, size: number): void {
    this.#content = { path, size, offset: 0, hash: createHash('sha256') };
  }

  #takeContent(c: Content, m: ReturnType<typeof decodeMessage>, out: ExportEvent[]): void {
    if (m.type === 'data' || m.type === 'hole') {
      const length = m.type === 'data' ? m.data.length : m.length;
      if (c.offset + length > c.size) throw new ExportError('Order', `${label(c.path)} gets more than its ${c.size} bytes (a ${m.type} of ${length} at byte ${c.offset})`);
      if (m.type === 'data') {
        c.hash.update(m.data);
        out.push({ type: 'data', offset: c.offset, data: m.data });
      } else {
        for (let left = length; left > 0; left -= CHUNK_BYTES) c.hash.update(ZEROS.subarray(0, Math.min(left, CHUNK_BYTES)));
        out.push({ type: 'hole', offset: c.offset, length });
      }
      c.offset += length;
      return;
    }
    if (m.type !== 'checksum') throw new ExportError('Order', `a ${m.type} message ${this.where()}, before the file's checksum`);
    if (c.offset !== c.size) throw new ExportError('Order', `${label(c.path)}: checksum after ${c.offset} of its ${c.size} bytes`);
    const actual = c.hash.digest();
    if (!actual.equals(m.sha256)) {
      throw new ExportError('Checksum', `checksum mismatch in ${label(c.path)}: the VRA sent SHA-256 ${m.sha256.toString('hex')}, the ${c.size} bytes received hash to ${actual.toString('hex')}`);
    }
    this.#content = undefined;
    this.#counted.files++;
    this.#counted.bytes += c.size;
    out.push({ type: 'file-end', path: c.path, size: c.size });
  }

  #finish(header: ExportHeader, totals: Totals): void {
    const got = this.#counted;
    const same = (a: Totals, b: Totals): boolean => a.entries === b.entries && a.files === b.files && a.bytes === b.bytes;
    const show = (t: Totals): string => `${t.entries} entries, ${t.files} files, ${t.bytes} bytes`;
    if (!same(got, totals)) throw new ExportError('Totals', `the end marker counts ${show(totals)}; received ${show(got)}`);
    if (!same(got, header.totals)) throw new ExportError('Totals', `the header announced ${show(header.totals)}; received ${show(got)}`);
    this.#ended = true;
  }
}

function label(path: string): string {
  return path === '' ? 'the image' : JSON.stringify(path);
}
