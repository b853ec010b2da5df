import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeFrame, FrameDecoder, HEADER_BYTES, MAX_PAYLOAD_BYTES, ProtocolError, type Frame } from './frame.ts';

/** A deterministic PRNG so a failing split can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decodeAll(stream: Buffer, cuts: number[]): Frame[] {
  const d = new FrameDecoder();
  const out: Frame[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...d.push(stream.subarray(at, c)));
    at = c;
  }
  d.end();
  return out;
}

function protocolError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('frames', () => {
  it('decode the same frames whatever the chunking', () => {
    const frames = Array.from({ length: 40 }, (_, i) => ({ type: (i % 10) + 1, payload: randomBytes(i * 37 % 3000) }));
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, [f.payload])));
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const n = Math.floor(r() * 60);
      const cuts = Array.from({ length: n }, () => Math.floor(r() * stream.length)).sort((a, b) => a - b);
      const got = decodeAll(stream, cuts);
      assert.equal(got.length, frames.length, `seed ${seed}`);
      got.forEach((f, i) => {
        assert.equal(f.type, frames[i]?.type, `seed ${seed} frame ${i}`);
        assert.deepEqual(f.payload, frames[i]?.payload, `seed ${seed} frame ${i}`);
      });
    }
  });

  it('decode byte by byte', () => {
    const stream = Buffer.concat([encodeFrame(4, [Buffer.from('ab'), Buffer.from('cd')]), encodeFrame(9, [])]);
    const got = decodeAll(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
    assert.deepEqual(got.map((f) => [f.type, f.payload.toString()]), [[4, 'abcd'], [9, '']]);
  });

  it('refuse a bad magic, naming the offset', () => {
    const good = encodeFrame(1, [Buffer.from('x')]);
    const bad = encodeFrame(1, [Buffer.from('y')]);
    bad[0] = 0x47;
    protocolError(() => new FrameDecoder().push(Buffer.concat([good, bad])), 'BadMagic', new RegExp(`offset ${good.length} starts with 0x47435352`));
  });

  it('refuse another protocol version, older or newer', () => {
    const f = encodeFrame(1, []);
    assert.equal(f[4], 2);
    f[4] = 1;
    protocolError(() => new FrameDecoder().push(f), 'UnsupportedVersion', /protocol version 1; this side speaks 2/);
    f[4] = 3;
    protocolError(() => new FrameDecoder().push(f), 'UnsupportedVersion', /protocol version 3; this side speaks 2/);
  });

  it('refuse a huge length from the header alone', () => {
    const f = encodeFrame(4, []);
    f.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 8);
    protocolError(() => new FrameDecoder().push(f.subarray(0, HEADER_BYTES)), 'TooLarge', /announces 8388609 payload bytes, more than 8388608/);
    assert.throws(() => encodeFrame(4, [Buffer.alloc(MAX_PAYLOAD_BYTES + 1)]), /TooLarge/);
  });

  it('refuse a flipped bit in the payload or the header', () => {
    for (const at of [HEADER_BYTES + 3, 5, 7]) {
      const f = encodeFrame(4, [Buffer.from('payload bytes')]);
      f[at] = (f[at] ?? 0) ^ 1;
      protocolError(() => new FrameDecoder().push(f), 'BadChecksum', /frame at offset 0 .* has CRC-32 0x[0-9a-f]{8}, its header says/);
    }
  });

  it('refuse a stream that ends inside a frame, and stay failed', () => {
    const f = encodeFrame(4, [Buffer.from('0123456789')]);
    const d = new FrameDecoder();
    assert.deepEqual(d.push(f.subarray(0, 20)), []);
    protocolError(() => d.end(), 'Truncated', /ended inside the frame at offset 0: 20 of 26 bytes/);
    const e = new FrameDecoder();
    e.push(f.subarray(0, 5));
    protocolError(() => e.end(), 'Truncated', /5 of 16 bytes/);
    const g = new FrameDecoder();
    assert.throws(() => g.push(Buffer.from('garbage that is not a frame')), /BadMagic/);
    assert.throws(() => g.push(f), /BadMagic/, 'a failed decoder does not resynchronise');
  });

  it('put a payload that arrives in pieces together in lent memory, and give the lease back on a bad CRC', () => {
    const asked: [number, number][] = [];
    const leases: { buf: Buffer; released: number; release(): void }[] = [];
    const memory = (type: number, length: number): { buf: Buffer; release(): void } => {
      asked.push([type, length]);
      const lease = {
        buf: Buffer.alloc(length),
        released: 0,
        release(): void {
          lease.released++;
        },
      };
      leases.push(lease);
      return lease;
    };
    const whole = encodeFrame(3, [randomBytes(1000)]);
    const split = encodeFrame(7, [randomBytes(50_000)]);
    const d = new FrameDecoder(undefined, memory);
    const got: Frame[] = [];
    d.pushEach(whole, (f) => got.push(f));
    for (let at = 0; at < split.length; at += 16_384) d.pushEach(split.subarray(at, at + 16_384), (f) => got.push(f));
    assert.deepEqual(asked, [[7, 50_000]], 'only the payload that came in pieces');
    assert.equal(got[0]?.lease, undefined);
    assert.equal(got[1]?.payload.buffer, leases[0]?.buf.buffer);
    assert.deepEqual(got[1]?.payload, split.subarray(HEADER_BYTES));
    const bad = Buffer.from(split);
    bad[HEADER_BYTES + 10] = (bad[HEADER_BYTES + 10] ?? 0) ^ 1;
    assert.throws(() => {
      for (let at = 0; at < bad.length; at += 16_384) d.pushEach(bad.subarray(at, at + 16_384), () => assert.fail('a bad frame was taken'));
    }, /BadChecksum/);
    assert.deepEqual(leases.map((l) => l.released), [0, 1], 'the bad frame’s lease went back');
  });
});
