import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  HandshakeError, MAX_FRAME_BYTES, encodeFrame, parseHello, parseReply, readFrame, secretsEqual, takeFrame,
} from './handshake.ts';

const hello = { v: 1, zorg: 'acme', token: 's3cret', target: { site: 'dr', node: 'dr-1' } };
const body = (frame: Buffer): Buffer => frame.subarray(4);
const raw = (text: string): Buffer => Buffer.from(text, 'utf8');
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err: unknown) {
    assert.ok(err instanceof HandshakeError, String(err));
    return err.code;
  }
  return 'no error';
};

describe('handshake frames', () => {
  it('encodes a length-prefixed JSON frame and takes it back, leaving what follows', () => {
    const frame = encodeFrame(hello);
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    assert.equal(takeFrame(frame.subarray(0, 3)), undefined, 'not even a length yet');
    assert.equal(takeFrame(frame.subarray(0, frame.length - 1)), undefined, 'one byte short');
    const taken = takeFrame(Buffer.concat([frame, raw('GET /')]));
    assert.ok(taken);
    assert.deepEqual(JSON.parse(taken.frame.toString()), hello);
    assert.equal(taken.rest.toString(), 'GET /');
  });

  it('refuses empty and oversized frames before reading them', () => {
    assert.equal(codeOf(() => takeFrame(Buffer.from([0, 0, 0, 0]))), 'BadHello');
    const big = Buffer.alloc(4);
    big.writeUInt32BE(MAX_FRAME_BYTES + 1);
    assert.equal(codeOf(() => takeFrame(big)), 'BadHello');
    assert.equal(codeOf(() => encodeFrame({ token: 'x'.repeat(MAX_FRAME_BYTES) })), 'BadHello');
  });
});

describe('parseHello', () => {
  it('accepts a v1 hello and ignores keys it does not know', () => {
    assert.deepEqual(parseHello(body(encodeFrame(hello))), hello);
    assert.deepEqual(parseHello(body(encodeFrame({ ...hello, client: 'vra/0.2' }))), hello);
  });

  it('says UnsupportedVersion for another version, BadHello for anything malformed', () => {
    assert.equal(codeOf(() => parseHello(body(encodeFrame({ ...hello, v: 2 })))), 'UnsupportedVersion');
    assert.equal(codeOf(() => parseHello(body(encodeFrame({ ...hello, v: undefined })))), 'UnsupportedVersion');
    for (const bad of [
      raw('not json'), raw('[1,2]'), raw('null'), Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      body(encodeFrame({ ...hello, zorg: 'Not_A_Name' })),
      body(encodeFrame({ ...hello, token: '' })),
      body(encodeFrame({ ...hello, token: 42 })),
      body(encodeFrame({ ...hello, target: { site: 'dr' } })),
      body(encodeFrame({ ...hello, target: { site: 'dr', node: '../etc' } })),
      body(encodeFrame({ v: 1 })),
    ]) {
      assert.equal(codeOf(() => parseHello(bad)), 'BadHello', bad.toString());
    }
  });

  it('names the invalid fields, never their values', () => {
    try {
      parseHello(body(encodeFrame({ ...hello, token: '', target: { site: 'dr', node: 'UPPER' } })));
      assert.fail('should throw');
    } catch (err: unknown) {
      assert.ok(err instanceof HandshakeError);
      assert.match(err.message, /token/);
      assert.match(err.message, /target\.node/);
      assert.doesNotMatch(err.message, /UPPER/);
    }
  });
});

describe('parseReply', () => {
  it('reads ok and refusals; an unknown refusal code reads as BadHello', () => {
    assert.deepEqual(parseReply(body(encodeFrame({ v: 1, ok: true }))), { v: 1, ok: true });
    assert.deepEqual(parseReply(body(encodeFrame({ v: 1, ok: false, code: 'Forbidden', message: 'no' }))), { v: 1, ok: false, code: 'Forbidden', message: 'no' });
    assert.deepEqual(parseReply(body(encodeFrame({ v: 1, ok: false, code: 'Martian', message: '?' }))), { v: 1, ok: false, code: 'BadHello', message: '?' });
    assert.equal(codeOf(() => parseReply(body(encodeFrame({ ok: 'yes' })))), 'BadHello');
  });
});

describe('secretsEqual', () => {
  it('compares content and length, and an empty expected secret matches nothing', () => {
    assert.equal(secretsEqual('abc', 'abc'), true);
    assert.equal(secretsEqual('abd', 'abc'), false);
    assert.equal(secretsEqual('abc', 'abcd'), false);
    assert.equal(secretsEqual('abcd', 'abc'), false);
    assert.equal(secretsEqual('', ''), false);
  });
});

describe('readFrame', () => {
  it('reads a frame split over chunks and pushes back the bytes after it', async () => {
    const s = new PassThrough();
    const frame = encodeFrame(hello);
    const read = readFrame(s, 1000);
    s.write(frame.subarray(0, 2));
    s.write(frame.subarray(2, 10));
    s.write(Buffer.concat([frame.subarray(10), raw('early data')]));
    assert.deepEqual(JSON.parse((await read).toString()), hello);
    assert.equal(s.isPaused(), true, 'left paused for whoever pipes it next');
    assert.equal((s.read() as Buffer).toString(), 'early data');
  });

  it('times out, and says BadHello when the stream ends early', async () => {
    await assert.rejects(readFrame(new PassThrough(), 30), (err: unknown) => err instanceof HandshakeError && err.code === 'Timeout');
    const s = new PassThrough();
    const read = readFrame(s, 1000);
    s.end(Buffer.from([0, 0, 0, 9, 0x7b]));
    await assert.rejects(read, (err: unknown) => err instanceof HandshakeError && err.code === 'BadHello');
  });
});
