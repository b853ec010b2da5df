import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { randomBytes, rng } from '../capture/workload.test-support.ts';
import { encodeFrame, FrameDecoder, ProtocolError, REPLICATION_FRAMES, type Frame } from './frame.ts';
import { decodeMessage, encodeMessage, encodeRecordsFrame, MESSAGE_TYPES, recordsFrameParts, recordsPieceChecksum, type Message } from './messages.ts';

function roundTrip(m: Message): Message {
  const frames = new FrameDecoder().push(encodeMessage(m));
  assert.equal(frames.length, 1);
  const [f] = frames;
  assert.ok(f);
  return decodeMessage(f);
}

function bad(type: number, payload: Buffer, code: string, pattern: RegExp): void {
  assert.throws(() => decodeMessage({ type, payload }), (err: unknown) => {
    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('messages', () => {
  it('round-trip every type', () => {
    const all: Message[] = [
      { type: 'hello', vpg: 'shop-db', token: 't'.repeat(512), senderId: 'vra-prod-1' },
      { type: 'welcome', durableSeq: 0 },
      { type: 'welcome', durableSeq: 2 ** 48 - 1, checkpoint: { seq: 17, time: 1764000000000.5 } },
      { type: 'refuse', code: 'Unauthenticated', message: 'invalid credentials' },
      { type: 'records', firstSeq: 5, records: [Buffer.from([10, 0, 1]), Buffer.from([1, 0, 2, 3])] },
      { type: 'ack', durableSeq: 123456789 },
      { type: 'manifestRequest', id: 7, volume: 'data' },
      { type: 'manifest', id: 7, last: false, chunk: Buffer.from('chunk') },
      { type: 'manifest', id: 7, last: true, chunk: Buffer.alloc(0), error: 'no volume data' },
      { type: 'error', code: 'BadSeq', message: 'ünïcode ok' },
      { type: 'ping', nonce: Buffer.from('12345678') },
      { type: 'pong', nonce: Buffer.from('87654321') },
    ];
    for (const m of all) assert.deepEqual(roundTrip(m), m);
  });

  it('build a RECORDS frame from records in parts, the same as from the records whole', () => {
    const records = [[Buffer.from([4, 0, 1]), Buffer.from('data of a write')], [Buffer.from([10, 0, 2, 3])], [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(0)]];
    const frame = encodeRecordsFrame(9, records);
    assert.deepEqual(frame, encodeMessage({ type: 'records', firstSeq: 9, records: records.map((r) => Buffer.concat(r)) }));
    const [f] = new FrameDecoder().push(frame);
    assert.ok(f);
    assert.deepEqual(decodeMessage(f), { type: 'records', firstSeq: 9, records: records.map((r) => Buffer.concat(r)) });
  });

  it('give a RECORDS frame as pieces that are the same bytes, large parts as they are and small ones copied together', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(64 * 1024));
    shared.fill(7);
    const big = Buffer.from(shared.buffer, 100, 20_000);
    const large = Buffer.alloc(5000, 3);
    const cases: Buffer[][][] = [
      [],
      [[Buffer.from([4, 0, 1]), Buffer.from('data of a write')]],
      [[Buffer.from([4, 0, 1]), big], [Buffer.from([10, 0, 2, 3])], [Buffer.from([4, 0, 2]), large], [Buffer.from([4, 0, 3]), big]],
      [[big], [large]],
    ];
    for (const records of cases) {
      const whole = encodeRecordsFrame(12, records);
      const { parts, bytes } = recordsFrameParts(12, records);
      assert.equal(bytes, whole.length);
      assert.deepEqual(Buffer.concat(parts), whole, `${records.length} records`);
      // Large parts are the caller's own memory, not copies.
      for (const r of records) for (const p of r) if (p.length >= 4096) assert.ok(parts.some((q) => q.buffer === p.buffer && q.byteOffset === p.byteOffset));
    }
    assert.throws(() => recordsFrameParts(-1, []), /firstSeq/);
  });

  it('combine a write\'s data CRC given with it into the frame\'s instead of reading the data: a wrong one fails the frame', () => {
    const r = rng(5);
    const records = Array.from({ length: 12 }, (_, i) => [Buffer.from([4, 0, i]), randomBytes(r, i % 3 === 0 ? 100 : 5000 + Math.floor(r() * 60_000))]);
    const known = records.map(([, data], i) => (i % 4 === 1 ? undefined : crc32(data ?? Buffer.alloc(0))));
    const whole = encodeRecordsFrame(3, records);
    const { parts } = recordsFrameParts(3, records, known);
    assert.deepEqual(Buffer.concat(parts), whole);
    const wrong = [...known];
    wrong[2] = ((wrong[2] ?? 0) ^ 0x10) >>> 0;
    const spoilt = Buffer.concat(recordsFrameParts(3, records, wrong).parts);
    assert.throws(() => new FrameDecoder().push(spoilt), /BadChecksum/);
  });

  it('check a RECORDS frame record by record: the verdicts of reading it whole, and each record\'s own CRC', () => {
    const r = rng(3);
    const outcome = (d: FrameDecoder, bytes: Buffer, cut: number): Frame[] | string => {
      try {
        return [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      } catch (err: unknown) {
        assert.ok(err instanceof ProtocolError, String(err));
        return err.code;
      }
    };
    for (let round = 0; round < 60; round++) {
      const records = Array.from({ length: 1 + Math.floor(r() * 20) }, () => [randomBytes(r, 1 + Math.floor(r() * (r() < 0.3 ? 70_000 : 300)))]);
      const frame = encodeRecordsFrame(1 + round, records);
      const cut = Math.floor(r() * frame.length);
      const got = outcome(new FrameDecoder(REPLICATION_FRAMES, undefined, recordsPieceChecksum), frame, cut);
      assert.ok(Array.isArray(got) && got[0] !== undefined, `round ${round}: ${typeof got === 'string' ? got : 'no frame'}`);
      assert.deepEqual([...(got[0].pieceCrcs ?? [])], records.map(([b]) => crc32(b ?? Buffer.alloc(0))));
      const m = decodeMessage(got[0]);
      assert.ok(m.type === 'records');
      assert.deepEqual([...(m.crcs ?? [])], records.map(([b]) => crc32(b ?? Buffer.alloc(0))));
      // A flipped bit anywhere from the CRC field on, a record's length field included: refused,
      // as reading the frame whole refuses it.
      const spoilt = Buffer.from(frame);
      const at = 12 + Math.floor(r() * (frame.length - 12));
      spoilt[at] = (spoilt[at] ?? 0) ^ (1 << Math.floor(r() * 8));
      assert.equal(outcome(new FrameDecoder(REPLICATION_FRAMES, undefined, recordsPieceChecksum), spoilt, cut), 'BadChecksum', `round ${round}: bit at ${at}`);
      assert.equal(outcome(new FrameDecoder(), spoilt, cut), 'BadChecksum');
    }
    // Lengths that do not add up under a CRC that matches: the frame passes whole, and the
    // message decoder names the problem.
    const payload = Buffer.from([0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 10, 0, 0, 0, 5, 1]);
    const lying = encodeFrame(MESSAGE_TYPES.records, [payload]);
    const [f] = new FrameDecoder(REPLICATION_FRAMES, undefined, recordsPieceChecksum).push(lying);
    assert.ok(f);
    assert.equal(f.pieceCrcs, undefined);
    assert.throws(() => decodeMessage(f), /ends inside record 1 \(seq 4\)/);
    // Other types have no pieces; CRCs for another count of records are not passed on.
    const [ack] = new FrameDecoder(REPLICATION_FRAMES, undefined, recordsPieceChecksum).push(encodeMessage({ type: 'ack', durableSeq: 4 }));
    assert.equal(ack?.pieceCrcs, undefined);
    const two = encodeMessage({ type: 'records', firstSeq: 1, records: [Buffer.from([1]), Buffer.from([2])] }).subarray(16);
    assert.deepEqual(decodeMessage({ type: MESSAGE_TYPES.records, payload: two, pieceCrcs: new Uint32Array(1) }), { type: 'records', firstSeq: 1, records: [Buffer.from([1]), Buffer.from([2])] });
  });

  it('refuse an unknown type', () => {
    bad(0, Buffer.alloc(0), 'UnknownType', /message type 0 is not one of 1\.\.10/);
    bad(99, Buffer.alloc(0), 'UnknownType', /message type 99/);
    const f = encodeFrame(42, [Buffer.from('x')]);
    const [frame] = new FrameDecoder().push(f);
    assert.ok(frame);
    assert.throws(() => decodeMessage(frame), /UnknownType/);
  });

  it('refuse payloads that are short, long or inconsistent, naming the field', () => {
    const hello = encodeMessage({ type: 'hello', vpg: 'a', token: 'tok', senderId: 's' }).subarray(16);
    bad(MESSAGE_TYPES.hello, hello.subarray(0, 4), 'BadMessage', /hello payload \(4 bytes\) ends inside token/);
    bad(MESSAGE_TYPES.hello, Buffer.concat([hello, Buffer.from([0])]), 'BadMessage', /1 bytes left over after the hello fields/);
    bad(MESSAGE_TYPES.hello, Buffer.from([0, 0, 0, 0, 0]), 'BadMessage', /hello vpg is empty/);
    bad(MESSAGE_TYPES.hello, Buffer.from([1, 0xff, 0, 0, 0]), 'BadMessage', /vpg is not valid UTF-8/);
    bad(MESSAGE_TYPES.hello, Buffer.from([1, 0x61, 0x02, 0x01]), 'BadMessage', /token is 513 bytes, more than 512/);
    bad(MESSAGE_TYPES.ack, Buffer.from([0, 0, 0]), 'BadMessage', /ack payload \(3 bytes\) ends inside durableSeq/);
    bad(MESSAGE_TYPES.welcome, Buffer.from([0, 0, 0, 0, 0, 1, 2]), 'BadMessage', /checkpoint flag is 2/);
    const records = (firstSeq: number, count: number, rest: number[]): Buffer => {
      const b = Buffer.alloc(10);
      b.writeUIntBE(firstSeq, 0, 6);
      b.writeUInt32BE(count, 6);
      return Buffer.concat([b, Buffer.from(rest)]);
    };
    bad(MESSAGE_TYPES.records, records(1, 0, []), 'BadMessage', /records batch is empty/);
    bad(MESSAGE_TYPES.records, records(0, 1, [0, 0, 0, 1, 10]), 'BadMessage', /seqs 0\.\.0 are outside/);
    bad(MESSAGE_TYPES.records, records(1, 0xffffffff, []), 'BadMessage', /count 4294967295 does not fit a 10-byte payload/);
    bad(MESSAGE_TYPES.records, records(3, 2, [0, 0, 0, 1, 10, 0, 0, 0, 5, 1]), 'BadMessage', /ends inside record 1 \(seq 4\)/);
    bad(MESSAGE_TYPES.records, records(3, 1, [0, 0, 0, 0]), 'BadMessage', /record 0 \(seq 3\) is empty/);
    bad(MESSAGE_TYPES.manifest, Buffer.from([0, 0, 0, 1, 2, 0, 0]), 'BadMessage', /error chunk is not the last/);
    bad(MESSAGE_TYPES.manifest, Buffer.from([0, 0, 0, 1, 8]), 'BadMessage', /flags 8 has unknown bits/);
    bad(MESSAGE_TYPES.ping, Buffer.from([1, 2, 3]), 'BadMessage', /ends inside nonce/);
  });

  it('refuse to encode what the other side would refuse', () => {
    assert.throws(() => encodeMessage({ type: 'ack', durableSeq: -1 }), /ack durableSeq -1 is not an integer/);
    assert.throws(() => encodeMessage({ type: 'hello', vpg: 'v', token: 'x'.repeat(513), senderId: 's' }), /hello token is 513 bytes/);
    assert.throws(() => encodeMessage({ type: 'ping', nonce: Buffer.alloc(3) }), /ping nonce is 3 bytes/);
  });
});
