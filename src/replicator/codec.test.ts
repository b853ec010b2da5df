import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CodecError, CompressionProbe, decodeRecord, encodeRecord, encodeRecordParts, recordLength, recordType } from './codec.ts';
import type { Record } from './ops.ts';

const digest = Buffer.alloc(32, 7);
const samples: Record[] = [
  { kind: 'op', volume: 'data', op: { op: 'mkdir', path: 'a/b', mode: 0o755 } },
  { kind: 'op', volume: 'data', op: { op: 'create', path: 'a/b/c.txt', id: 2 ** 40 + 3, mode: 0o4644 } },
  { kind: 'op', volume: 'data', op: { op: 'symlink', path: 'link', target: '../../etc/passwd' } },
  { kind: 'op', volume: 'data', op: { op: 'write', id: 5, offset: 2 ** 45, data: randomBytes(1000) } },
  { kind: 'op', volume: 'data', op: { op: 'truncate', id: 5, size: 0 } },
  { kind: 'op', volume: 'data', op: { op: 'rename', from: 'x', to: 'y/z' } },
  { kind: 'op', volume: 'data', op: { op: 'unlink', path: 'ünïcode/✓' } },
  { kind: 'op', volume: 'db.volume-1', op: { op: 'chmod', path: 'x', mode: 0o600 } },
  { kind: 'op', volume: 'data', op: { op: 'digest', id: 9, size: 123, digest } },
  { kind: 'checkpoint', checkpoint: { time: 1_764_000_000_123, tag: 'before upgrade', volumes: [{ volume: 'data', digest }, { volume: 'logs', digest }] } },
];

describe('record codec', () => {
  it('round-trips every record type', () => {
    for (const record of samples) {
      const bytes = encodeRecord(record);
      assert.deepEqual(decodeRecord(bytes), record);
      assert.equal(recordType(bytes), record.kind === 'checkpoint' ? 'checkpoint' : record.op.op);
    }
  });

  it('decodes records that own their memory when asked, so the bytes may be reused at once', () => {
    const text: Record = { kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: Buffer.alloc(64 * 1024, 'abcdefgh') } };
    for (const record of [...samples, text]) {
      for (const compress of [false, true]) {
        const bytes = encodeRecord(record, { compress });
        const owned = decodeRecord(bytes, { own: true });
        const viewed = decodeRecord(bytes);
        bytes.fill(0xee);
        assert.deepEqual(owned, record);
        // Without `own`, raw write data and digests are views of the record's bytes.
        const aliased = record.kind === 'checkpoint' || record.op.op === 'digest' || (record.op.op === 'write' && !(compress && record === text));
        if (aliased) assert.notDeepEqual(viewed, record);
        else assert.deepEqual(viewed, record);
      }
    }
  });

  it('encodes in parts that join to the record, keeping an uncompressed write\'s data without a copy', () => {
    const text = Buffer.alloc(64 * 1024, 'abcdefgh');
    const textWrite: Record = { kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: text } };
    for (const record of [...samples, textWrite]) {
      for (const compress of [false, true]) {
        const parts = encodeRecordParts(record, { compress });
        assert.deepEqual(Buffer.concat(parts), encodeRecord(record, { compress }));
        assert.equal(recordLength(parts), encodeRecord(record, { compress }).length);
      }
    }
    // A view into a larger buffer stays that view: same memory, same bytes.
    const big = randomBytes(8192);
    const view = big.subarray(1000, 5096);
    const [head, data, ...rest] = encodeRecordParts({ kind: 'op', volume: 'v', op: { op: 'write', id: 3, offset: 4096, data: view } }, { compress: true });
    assert.ok(head !== undefined && data !== undefined);
    assert.equal(rest.length, 0);
    assert.equal(data.buffer, big.buffer);
    assert.equal(data.byteOffset, view.byteOffset);
    assert.equal(data.length, view.length);
    // Compressed data is copied into the one part: zstd's output may share a larger buffer.
    assert.equal(encodeRecordParts(textWrite, { compress: true }).length, 1);
  });

  it('compresses write data that compresses, and not data that does not', () => {
    const text = Buffer.alloc(64 * 1024, 'abcdefgh');
    const packed = encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: text } }, { compress: true });
    assert.ok(packed.length < 1000, `${packed.length} bytes`);
    assert.deepEqual(decodeRecord(packed), { kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: text } });
    const noise = randomBytes(64 * 1024);
    const stored = encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: noise } }, { compress: true });
    assert.equal(stored[1], 0, 'no compression flag');
    assert.equal(stored.length, noise.length + 2 + 2 + 16);
  });

  it('refuses hostile paths when encoding and when decoding', () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'a//b', 'a/./b', '', 'a\0b', 'x/'.repeat(3000)]) {
      assert.throws(() => encodeRecord({ kind: 'op', volume: 'v', op: { op: 'unlink', path } }), CodecError);
      // Hand-made bytes, as a hostile peer would send them.
      const p = Buffer.from(path);
      const bytes = Buffer.concat([Buffer.from([7, 0, 1]), Buffer.from('v'), Buffer.from([p.length >> 8, p.length & 0xff]), p]);
      assert.throws(() => decodeRecord(bytes), (err: unknown) => err instanceof CodecError && /unlink path/.test(err.message), path);
    }
  });

  it('refuses truncated, padded, unknown and out-of-range records with a message naming the field', () => {
    const write = encodeRecord(samples[3] as Record);
    assert.throws(() => decodeRecord(write.subarray(0, 10)), /record ends inside write/);
    const create = encodeRecord(samples[1] as Record);
    assert.throws(() => decodeRecord(Buffer.concat([create, Buffer.from([0])])), /1 bytes left over after create/);
    assert.throws(() => decodeRecord(Buffer.from([99, 0])), /unknown record type 99/);
    assert.throws(() => decodeRecord(Buffer.alloc(0)), /unknown record type \(empty record\)/);
    assert.throws(() => decodeRecord(Buffer.from([1, 4, 1, 0x76])), /mkdir has unknown flags 4/);
    const badMode = Buffer.from(encodeRecord(samples[0] as Record));
    badMode.writeUInt32BE(0o170000, 3 + 4);
    assert.throws(() => decodeRecord(badMode), /mkdir mode 61440 is not a permission mode/);
    const badVolume = Buffer.concat([Buffer.from([7, 0, 3]), Buffer.from('A_B'), Buffer.from([0, 1, 0x78])]);
    assert.throws(() => decodeRecord(badVolume), /volume "A_B" is not a DNS subdomain/);
    assert.throws(() => encodeRecord({ kind: 'op', volume: 'v', op: { op: 'truncate', id: -1, size: 0 } }), /truncate id -1/);
    assert.throws(() => encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 2 ** 48 - 2, data: Buffer.alloc(4) } }), /write end/);
  });

  it('refuses a write whose compressed data lies about its size (no zip bombs)', () => {
    const text = Buffer.alloc(64 * 1024, 'a');
    const packed = Buffer.from(encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: text } }, { compress: true }));
    packed.writeUInt32BE(100, 2 + 2 + 12);
    assert.throws(() => decodeRecord(packed), (err: unknown) => err instanceof CodecError && /write data/.test(err.message));
    const garbage = Buffer.from(packed);
    garbage.fill(0xff, 2 + 2 + 16);
    assert.throws(() => decodeRecord(garbage), /write data does not decompress/);
  });
});

describe('compression sampling', () => {
  it('skips data whose sample does not compress, and compresses data whose sample does', () => {
    // Noise with text in its middle: the sample says compress; it still pays overall.
    const text = Buffer.alloc(256 * 1024, 'the quick brown fox ');
    const mixed = Buffer.concat([randomBytes(16 * 1024), text, randomBytes(16 * 1024)]);
    assert.equal(encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: mixed } }, { compress: true })[1], 1);
    // Text with noise in its middle: the sample says skip, so it is sent as it is.
    const odd = Buffer.concat([text, randomBytes(64 * 1024), text]);
    assert.equal(encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: odd } }, { compress: true })[1], 0);
    assert.equal(encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data: randomBytes(1024 * 1024) } }, { compress: true })[1], 0);
  });
});

describe('compression probe', () => {
  const write = (data: Buffer, probe: CompressionProbe): number =>
    encodeRecord({ kind: 'op', volume: 'v', op: { op: 'write', id: 1, offset: 0, data } }, { compress: true, probe })[1] ?? -1;
  const text = Buffer.alloc(64 * 1024, 'the quick brown fox ');

  it('samples fewer and fewer of a run of incompressible writes, down to one in 17, small ones too', () => {
    for (const size of [64 * 1024, 8 * 1024, 600]) {
      const probe = new CompressionProbe();
      const flags = Array.from({ length: 200 }, () => write(randomBytes(size), probe));
      assert.ok(flags.every((f) => f === 0));
      // Writes 1–8 sampled, then skips of 1, 2, 4 and 8 (samples at 10, 13, 18, 27), then 16 at a
      // time: samples at 44, 61, … 197.
      assert.deepEqual([probe.sampled, probe.skipped], [8 + 4 + 10, 200 - 22], `${size}-byte writes`);
    }
  });

  it('compresses again within 16 writes once compressible data comes, and samples each write from then on', () => {
    const probe = new CompressionProbe();
    for (let i = 0; i < 100; i++) write(randomBytes(64 * 1024), probe);
    const flags = Array.from({ length: 40 }, () => write(text, probe));
    const first = flags.indexOf(1);
    assert.ok(first >= 0 && first <= 16, `first compressed write: ${first}`);
    assert.ok(flags.slice(first).every((f) => f === 1), flags.join(''));
  });

  it('takes a small write as its own sample, and a lone miss as only a miss', () => {
    // Below four samples' size a write is compressed whole when the probe tries it, and whether it
    // shrank counts: small text after a run of incompressible writes is compressed within 16
    // writes, and every one after it is.
    const probe = new CompressionProbe();
    for (let i = 0; i < 50; i++) write(randomBytes(64 * 1024), probe);
    const small = Array.from({ length: 30 }, () => write(Buffer.alloc(8 * 1024, 'small text '), probe));
    const first = small.indexOf(1);
    assert.ok(first >= 0 && first <= 16, `first compressed write: ${first}`);
    assert.ok(small.slice(first).every((f) => f === 1), small.join(''));
    // A compressible small write ends the skipping for large writes too.
    assert.equal(write(text, probe), 1);
    const mixed = new CompressionProbe();
    for (let i = 0; i < 100; i++) assert.equal(write(i % 4 === 3 ? randomBytes(64 * 1024) : text, mixed), i % 4 === 3 ? 0 : 1, `write ${i}`);
    assert.equal(mixed.skipped, 0);
  });
});

describe('record encoding buffer', () => {
  it('grows past its first guess (long paths and many volumes) without losing bytes', () => {
    const long = `${'d'.repeat(200)}/`.repeat(19) + 'f';
    const rename: Record = { kind: 'op', volume: 'v', op: { op: 'rename', from: long, to: `${long}2` } };
    assert.deepEqual(decodeRecord(encodeRecord(rename)), rename);
    const volumes = Array.from({ length: 300 }, (_, i) => ({ volume: `volume-${'x'.repeat(100)}-${i}`, digest: Buffer.alloc(32, i % 256) }));
    const cp: Record = { kind: 'checkpoint', checkpoint: { time: 1, tag: 't', volumes } };
    assert.deepEqual(decodeRecord(encodeRecord(cp)), cp);
  });
});
