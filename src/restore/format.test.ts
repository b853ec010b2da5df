import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeMessage, encodeMessage, ExportError, EXPORT_FRAMES, type ExportHeader, type ExportMessage } from './format.ts';
import { ExportReader, type ExportEvent } from './reader.ts';
import { FrameDecoder, encodeFrame } from '../replicator/wire/frame.ts';

const sha = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

function header(totals: ExportHeader['totals'], kind: 'fs' | 'block' = 'fs'): ExportMessage {
  return { type: 'header', header: { format: 1, exportId: 'e1', stream: 's1', volume: 'files', kind, checkpoint: { seq: 7, time: '2026-01-01T00:00:00.000Z', tag: 't' }, digest: 'ab'.repeat(32), totals } };
}

const hello = Buffer.from('hello, world');
/** A small valid fs export: a folder, a file with a hole, a symlink, a hard link. */
function fsStream(): ExportMessage[] {
  const content = Buffer.concat([hello, Buffer.alloc(100)]);
  return [
    header({ entries: 4, files: 1, bytes: content.length }),
    { type: 'dir', path: 'd', mode: 0o750 },
    { type: 'file', path: 'd/f', mode: 0o4755, size: content.length },
    { type: 'data', data: hello },
    { type: 'hole', length: 100 },
    { type: 'checksum', sha256: sha(content) },
    { type: 'symlink', path: 'l', target: '../outside' },
    { type: 'link', path: 'd/g', existing: 'd/f' },
    { type: 'end', totals: { entries: 4, files: 1, bytes: content.length } },
  ];
}

function bytes(messages: readonly ExportMessage[]): Buffer {
  return Buffer.concat(messages.map(encodeMessage));
}

function read(stream: Buffer, chunk = stream.length): { events: ExportEvent[]; reader: ExportReader } {
  const reader = new ExportReader();
  const events: ExportEvent[] = [];
  for (let i = 0; i < stream.length; i += chunk) events.push(...reader.push(stream.subarray(i, i + chunk)));
  reader.end();
  return { events, reader };
}

function fails(stream: Buffer, code: ExportError['code'], message: RegExp): void {
  assert.throws(() => read(stream), (err: unknown) => {
    assert.ok(err instanceof ExportError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('export format', () => {
  it('round-trips every message', () => {
    for (const m of [...fsStream(), { type: 'image', size: 2 ** 40 } as const, { type: 'error', message: 'disk on fire' } as const]) {
      const frames = new FrameDecoder(EXPORT_FRAMES).push(encodeMessage(m));
      assert.equal(frames.length, 1);
      const frame = frames[0];
      assert.ok(frame !== undefined);
      assert.deepEqual(decodeMessage(frame), m);
    }
  });

  it('refuses paths that leave the target, and a replication frame', () => {
    for (const path of ['../x', '/etc/passwd', 'a//b', 'a/./b', '']) {
      // Encoded by hand: encodeMessage would not make such a frame from a typed message anyway.
      const dir = encodeFrame(2, [Buffer.from([0, 0, 1, 0xed]), Buffer.from([0, Buffer.byteLength(path)]), Buffer.from(path)], EXPORT_FRAMES);
      fails(Buffer.concat([bytes([header({ entries: 1, files: 0, bytes: 0 })]), dir]), 'BadMessage', /^dir: path /);
    }
    fails(encodeFrame(1, [Buffer.from('{}')]), 'BadFrame', /BadMagic.*"ZCSX"/);
  });

  it('reads a stream in any chunking and hands on each entry once it is proven', () => {
    const whole = read(bytes(fsStream()));
    const bytewise = read(bytes(fsStream()), 1);
    assert.deepEqual(bytewise.events, whole.events);
    assert.deepEqual(whole.events.map((e) => e.type), ['header', 'dir', 'file', 'data', 'hole', 'file-end', 'symlink', 'link', 'end']);
    assert.deepEqual(whole.events[4], { type: 'hole', offset: hello.length, length: 100 });
    assert.deepEqual(whole.reader.progress, { entries: 4, files: 1, bytes: 112 });
  });

  it('names the entry where a stream was cut', () => {
    const all = bytes(fsStream());
    const frames = fsStream().map((m) => encodeMessage(m).length);
    const upTo = (n: number): number => frames.slice(0, n).reduce((a, b) => a + b, 0);
    fails(all.subarray(0, upTo(3) + 5), 'Truncated', /inside "d\/f" \(at byte 0 of 112\)/);
    fails(all.subarray(0, upTo(4) + 5), 'Truncated', /inside "d\/f" \(at byte 12 of 112\)/);
    fails(all.subarray(0, upTo(7)), 'Truncated', /after "l" \(3 of 4 entries\)/);
    fails(all.subarray(0, upTo(8)), 'Truncated', /after "d\/g" \(4 of 4 entries\)/);
    fails(Buffer.alloc(0), 'Truncated', /before the header/);
  });

  it('names the entry whose bytes changed: frame CRC, or the file checksum', () => {
    const all = bytes(fsStream());
    const at = upToData();
    const flipped = Buffer.from(all);
    flipped[at + 16 + 3] = (flipped[at + 16 + 3] ?? 0) ^ 1;
    fails(flipped, 'BadFrame', /BadChecksum.*inside "d\/f"/);
    const wrongSum = fsStream().map((m) => (m.type === 'checksum' ? { ...m, sha256: sha(Buffer.from('other')) } : m));
    fails(bytes(wrongSum), 'Checksum', /checksum mismatch in "d\/f": the VRA sent SHA-256 [0-9a-f]{64}, the 112 bytes received hash to [0-9a-f]{64}/);
  });

  it('checks the totals against the end marker and the header', () => {
    const lying = fsStream().map((m) => (m.type === 'end' ? { ...m, totals: { entries: 4, files: 1, bytes: 999 } } : m));
    fails(bytes(lying), 'Totals', /end marker counts 4 entries, 1 files, 999 bytes; received 4 entries, 1 files, 112 bytes/);
    const announced = fsStream().map((m) => (m.type === 'header' ? header({ entries: 5, files: 1, bytes: 112 }) : m));
    fails(bytes(announced), 'Totals', /header announced 5 entries/);
  });

  it('refuses entries out of order', () => {
    const h = header({ entries: 1, files: 0, bytes: 0 });
    fails(bytes([{ type: 'dir', path: 'a', mode: 0o755 }]), 'Order', /not the header/);
    fails(bytes([h, { type: 'dir', path: 'a/b', mode: 0o755 }]), 'Order', /comes before its folder "a"/);
    fails(bytes([h, { type: 'symlink', path: 'a', target: 'x' }, { type: 'dir', path: 'a/b', mode: 0o755 }]), 'Order', /before its folder "a" \(or its parent is not a folder\)/);
    fails(bytes([h, { type: 'dir', path: 'a', mode: 0o755 }, { type: 'dir', path: 'a', mode: 0o755 }]), 'Order', /"a" is sent twice/);
    fails(bytes([h, { type: 'link', path: 'b', existing: 'a' }]), 'Order', /names "a", which is not a file sent before it/);
    fails(bytes([h, { type: 'data', data: hello }]), 'Order', /data message outside a file/);
    fails(bytes([h, { type: 'file', path: 'f', mode: 0o644, size: 2 }, { type: 'data', data: hello }]), 'Order', /"f" gets more than its 2 bytes/);
    fails(bytes([h, { type: 'file', path: 'f', mode: 0o644, size: 20 }, { type: 'data', data: hello }, { type: 'checksum', sha256: sha(hello) }]), 'Order', /checksum after 12 of its 20 bytes/);
    fails(bytes([h, { type: 'image', size: 0 }]), 'Order', /image message that is not the one entry/);
    fails(bytes([header({ entries: 1, files: 1, bytes: 0 }, 'block'), { type: 'dir', path: 'a', mode: 0o755 }]), 'Order', /dir message in the export of a block volume/);
  });

  it('reports the VRA\'s own error, where it came', () => {
    const cut = [...fsStream().slice(0, 4), { type: 'error', message: 'the export was deleted' } as const];
    fails(bytes(cut), 'Remote', /the VRA stopped the export inside "d\/f" \(at byte 12 of 112\): the export was deleted/);
  });

  it('reads a block volume: one image', () => {
    const data = Buffer.from('image bytes');
    const { events } = read(bytes([
      header({ entries: 1, files: 1, bytes: data.length }, 'block'),
      { type: 'image', size: data.length }, { type: 'data', data }, { type: 'checksum', sha256: sha(data) },
      { type: 'end', totals: { entries: 1, files: 1, bytes: data.length } },
    ]));
    assert.deepEqual(events.map((e) => e.type), ['header', 'file', 'data', 'file-end', 'end']);
  });
});

function upToData(): number {
  return fsStream().slice(0, 3).reduce((n, m) => n + encodeMessage(m).length, 0);
}
