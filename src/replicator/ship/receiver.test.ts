// The receiver over real TLS on loopback, driven by a raw client that writes frames by hand.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { crc32 } from 'node:zlib';
import { encodeRecord } from '../codec.ts';
import type { Record } from '../ops.ts';
import { encodeFrame, FrameDecoder, MAX_PAYLOAD_BYTES, REPLICATION_ALPN } from '../wire/frame.ts';
import { decodeManifest } from '../wire/manifest-codec.ts';
import { decodeMessage, encodeMessage, type Message } from '../wire/messages.ts';
import type { JournalSink } from './journal-sink.ts';
import type { Logger } from '../log.ts';
import { secretsEqual } from '../../auth/secrets.ts';
import { startReceiver, type Receiver, type ReceiverStream } from './receiver.ts';
import { identity, MemoryJournal, SERVERNAME, testStream, tlsOverTcp, until, type TestStream } from './ship.test-support.ts';

const TOKEN = randomBytes(24).toString('base64url');

interface LogLine { level: string; obj: { code?: string; vpg?: string; reason?: string }; msg: string | undefined }

/** A hand-driven client: everything the receiver sends is decoded into `messages`. */
class RawClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<void>;
  error: Error | undefined;
  readonly socket: Duplex;
  private readonly decoder = new FrameDecoder();
  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.messages.push(decodeMessage(f));
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', (err: Error) => (this.error = err));
  }
  send(m: Message | Buffer): void {
    this.socket.write(Buffer.isBuffer(m) ? m : encodeMessage(m));
  }
  async next<T extends Message['type']>(type: T): Promise<Extract<Message, { type: T }>> {
    await until(`a ${type} message (have ${this.messages.map((m) => m.type).join(', ')})`, () => this.messages.some((m) => m.type === type));
    const i = this.messages.findIndex((m) => m.type === type);
    return this.messages.splice(i, 1)[0] as Extract<Message, { type: T }>;
  }
  /** A ping round trip: everything sent before it has been processed by the receiver. */
  async sync(): Promise<void> {
    const nonce = randomBytes(8);
    this.send({ type: 'ping', nonce });
    await until('the pong', () => this.messages.some((m) => m.type === 'pong' && m.nonce.equals(nonce)));
    this.messages.splice(this.messages.findIndex((m) => m.type === 'pong' && m.nonce.equals(nonce)), 1);
  }
}

const op = (i: number): Record => ({ kind: 'op', volume: 'data', op: { op: 'write', id: 1, offset: i * 10, data: Buffer.from(`record ${i}`) } });

describe('receiver', () => {
  const logs: LogLine[] = [];
  const log: Logger = {
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
  };
  const streams = new Map<string, ReceiverStream>();
  let receiver: Receiver;
  const clients: RawClient[] = [];

  const connect = async (): Promise<RawClient> => {
    const c = new RawClient(await tlsOverTcp(receiver.port));
    clients.push(c);
    return c;
  };
  const open = async (vpg: string, stream: TestStream): Promise<RawClient> => {
    streams.set(vpg, stream);
    const c = await connect();
    c.send({ type: 'hello', vpg, token: stream.token, senderId: 'vra-prod-1' });
    await c.next('welcome');
    return c;
  };
  const expectError = async (c: RawClient, code: string, pattern: RegExp): Promise<void> => {
    const m = await c.next('error');
    assert.equal(m.code, code, m.message);
    assert.match(m.message, pattern);
    await c.closed;
  };

  before(async () => {
    receiver = await startReceiver({ host: '127.0.0.1', port: 0, tls: identity, lookup: (vpg) => streams.get(vpg), helloTimeoutMs: 1500, replaceTimeoutMs: 600, log });
  });
  after(async () => {
    for (const c of clients) c.socket.destroy();
    await receiver.close();
  });

  it('welcomes an authenticated sender and acknowledges only what the journal made durable', async () => {
    const stream = testStream(TOKEN);
    stream.journal.hold();
    const c = await open('shop', stream);
    const bytes = [op(1), op(2), op(3)].map((r) => encodeRecord(r));
    c.send({ type: 'records', firstSeq: 1, records: bytes.slice(0, 2) });
    c.send({ type: 'records', firstSeq: 3, records: bytes.slice(2) });
    await c.sync();
    assert.equal(stream.journal.appendCalls, 2, 'both batches went to the journal while the first was in flight');
    assert.equal(stream.journal.heldAppends, 2);
    assert.equal(c.messages.filter((m) => m.type === 'ack').length, 0, 'no ACK before the journal resolved');
    stream.journal.release();
    await until('ack 3', () => c.messages.some((m) => m.type === 'ack' && m.durableSeq === 3));
    assert.deepEqual(stream.journal.records.map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(stream.journal.records.map((r) => r.bytes), bytes);
    // Each record's CRC was worked out as its frame was checked, and handed on with it.
    assert.deepEqual(stream.journal.records.map((r) => r.crc), bytes.map((b) => crc32(b)));
    assert.equal(stream.journal.violation, undefined);
    const info = receiver.connections().find((i) => i.vpg === 'shop');
    assert.equal(info?.state, 'streaming');
    assert.equal(info.ackedSeq, 3);
    assert.equal(info.records, 3);
    assert.equal(info.senderId, 'vra-prod-1');
    c.socket.destroy();
  });

  it('tells a new sender where the journal stands: durableSeq and the last checkpoint', async () => {
    const stream = testStream(TOKEN);
    const cp = encodeRecord({ kind: 'checkpoint', checkpoint: { time: 1764000000123, tag: '', volumes: [] } });
    await stream.journal.append([{ seq: 1, bytes: encodeRecord(op(1)) }, { seq: 2, bytes: cp }, { seq: 3, bytes: encodeRecord(op(3)) }]);
    streams.set('resume', stream);
    const c = await connect();
    c.send({ type: 'hello', vpg: 'resume', token: TOKEN, senderId: 's' });
    assert.deepEqual(await c.next('welcome'), { type: 'welcome', durableSeq: 3, checkpoint: { seq: 2, time: 1764000000123 } });
    c.send({ type: 'records', firstSeq: 3, records: [encodeRecord(op(3))] });
    await expectError(c, 'BadSeq', /RECORDS start at seq 3; the next seq of this stream is 4/);
    assert.equal(stream.journal.appendCalls, 1, 'a batch out of order never reaches the journal');
  });

  it('refuses a wrong token with just "invalid credentials" and never touches the journal', async () => {
    let touched = 0;
    const journal: JournalSink = {
      get durableSeq() {
        touched++;
        return 0;
      },
      lastCheckpoint: () => {
        touched++;
        return undefined;
      },
      append: () => {
        touched++;
        return Promise.resolve();
      },
    };
    streams.set('locked', { token: TOKEN, journal, manifest: () => Promise.reject(new Error('no')) });
    for (const token of ['wrong', TOKEN.slice(1), `${TOKEN}x`, '']) {
      const c = await connect();
      c.send({ type: 'hello', vpg: 'locked', token, senderId: 'intruder' });
      c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1))] });
      assert.deepEqual(await c.next('refuse'), { type: 'refuse', code: 'Unauthenticated', message: 'invalid credentials' });
      await c.closed;
    }
    assert.equal(touched, 0);
    assert.ok(logs.some((l) => l.level === 'warn' && l.obj.code === 'Unauthenticated' && l.obj.vpg === 'locked' && l.obj.reason === 'wrong token'));
    assert.equal(secretsEqual('a', 'a'), true);
    assert.equal(secretsEqual('a', 'b'), false);
  });

  it('refuses an unknown stream; a lookup that throws is an Internal error', async () => {
    const c = await connect();
    c.send({ type: 'hello', vpg: 'nope', token: TOKEN, senderId: 's' });
    const m = await c.next('refuse');
    assert.equal(m.code, 'UnknownStream');
    assert.match(m.message, /no stream "nope"/);
    await c.closed;
    const own = await startReceiver({ host: '127.0.0.1', port: 0, tls: identity, log, lookup: () => {
      throw new Error('registry unreadable');
    } });
    const d = new RawClient(await tlsOverTcp(own.port));
    d.send({ type: 'hello', vpg: 'any', token: TOKEN, senderId: 's' });
    await expectError(d, 'Internal', /could not look up the stream/);
    assert.ok(logs.some((l) => l.level === 'error' && l.msg === 'stream lookup failed'));
    await own.close();
  });

  it('answers malformed frames with an ERROR that names the problem, and keeps serving', async () => {
    const header = (mutate: (f: Buffer) => void): Buffer => {
      const f = encodeMessage({ type: 'ping', nonce: Buffer.alloc(8) });
      mutate(f);
      return f;
    };
    const cases: [string, Buffer, string, RegExp][] = [
      ['bad magic', header((f) => f.writeUInt32BE(0xdeadbeef, 0)), 'BadMagic', /starts with 0xdeadbeef, not 0x5a435352/],
      ['bad version', header((f) => f.writeUInt8(9, 4)), 'UnsupportedVersion', /protocol version 9/],
      ['bad crc', header((f) => f.writeUInt8(1, 20)), 'BadChecksum', /has CRC-32 0x[0-9a-f]+, its header says/],
      ['huge length', header((f) => f.writeUInt32BE(0xffffffff, 8)).subarray(0, 16), 'TooLarge', new RegExp(`4294967295 payload bytes, more than ${MAX_PAYLOAD_BYTES}`)],
      ['unknown type', encodeFrame(77, [Buffer.from('x')]), 'UnknownType', /message type 77/],
      ['garbage', randomBytes(64).fill(0x41, 0, 4), 'BadMagic', /starts with 0x41414141/],
      ['records before hello', encodeMessage({ type: 'records', firstSeq: 1, records: [Buffer.from([1])] }), 'UnexpectedMessage', /RECORDS before WELCOME \(connection is in state hello\)/],
      ['bad hello', encodeFrame(1, [Buffer.from([0])]), 'BadMessage', /hello payload \(1 bytes\) ends inside token length/],
      ['ack from a sender', encodeMessage({ type: 'ack', durableSeq: 1 }), 'UnexpectedMessage', /a sender does not send ACK/],
    ];
    for (const [name, bytes, code, pattern] of cases) {
      const c = await connect();
      c.send(bytes);
      await expectError(c, code, pattern).catch((err: unknown) => {
        throw new Error(`${name}: ${(err as Error).message}`);
      });
    }
    // A half frame, then the client closes its side.
    const c = await connect();
    c.socket.end(encodeMessage({ type: 'ping', nonce: Buffer.alloc(8) }).subarray(0, 10));
    await expectError(c, 'Truncated', /stream ended inside the frame at offset 0: 10 of 16 bytes/);
    assert.ok(logs.some((l) => l.level === 'warn' && l.obj.code === 'Truncated'));
    assert.ok(logs.some((l) => l.level === 'warn' && l.obj.code === 'BadMagic'));
    // Still serving.
    const ok = await open('after-errors', testStream(TOKEN));
    await ok.sync();
    ok.socket.destroy();
  });

  it('refuses bad records of an authenticated sender before they reach the journal', async () => {
    const stream = testStream(TOKEN);
    const c = await open('bad-records', stream);
    c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1)), Buffer.from([99, 0])] });
    await expectError(c, 'BadMessage', /record seq 2: unknown record type 99/);
    assert.equal(stream.journal.appendCalls, 0);
  });

  it('ends a connection that sends no HELLO in time', async () => {
    const c = await connect();
    await expectError(c, 'Timeout', /no HELLO within 1500 ms/);
  });

  it('lets a second sender replace the first once the first one\'s appends are durable', async () => {
    const stream = testStream(TOKEN);
    stream.journal.hold();
    const first = await open('pair', stream);
    first.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1)), encodeRecord(op(2))] });
    await first.sync();
    const second = await connect();
    second.send({ type: 'hello', vpg: 'pair', token: TOKEN, senderId: 'vra-prod-2' });
    await expectError(first, 'Replaced', /another connection of the same stream replaced this one/);
    await until('the second connection waits', () => receiver.connections().some((i) => i.senderId === 'vra-prod-2' && i.state === 'waiting'));
    assert.equal(second.messages.length, 0, 'no WELCOME while the first one\'s append is in flight');
    stream.journal.release();
    assert.equal((await second.next('welcome')).durableSeq, 2);
    second.send({ type: 'records', firstSeq: 3, records: [encodeRecord(op(3))] });
    await until('ack 3', () => second.messages.some((m) => m.type === 'ack' && m.durableSeq === 3));
    assert.equal(first.messages.filter((m) => m.type === 'ack').length, 0, 'the replaced connection got no ACK');
    assert.equal(stream.journal.violation, undefined);
    second.socket.destroy();
  });

  it('answers Busy when the replaced connection\'s appends do not settle in time', async () => {
    const stream = testStream(TOKEN);
    stream.journal.hold();
    const first = await open('busy', stream);
    first.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1))] });
    await first.sync();
    const second = await connect();
    second.send({ type: 'hello', vpg: 'busy', token: TOKEN, senderId: 's2' });
    const m = await second.next('refuse');
    assert.equal(m.code, 'Busy');
    assert.match(m.message, /still writing its journal/);
    stream.journal.release();
    const third = await open('busy', stream);
    third.socket.destroy();
  });

  it('serves manifests in chunks, and says why one failed', async () => {
    const stream = testStream(TOKEN);
    const hashes = randomBytes(600_000 * 16); // 9.6 MB: three chunks
    stream.manifests.set('disk', { kind: 'block', size: 600_000 * 65536, hashes });
    const c = await open('manifests', stream);
    c.send({ type: 'manifestRequest', id: 1, volume: 'disk' });
    c.send({ type: 'manifestRequest', id: 2, volume: 'gone' });
    await until('the last chunk', () => c.messages.some((m) => m.type === 'manifest' && m.id === 1 && m.last));
    const chunks = c.messages.filter((m) => m.type === 'manifest' && m.id === 1);
    assert.equal(chunks.length, 3);
    const got = decodeManifest(Buffer.concat(chunks.map((m) => (m.type === 'manifest' ? m.chunk : Buffer.alloc(0)))));
    assert.ok(got.kind === 'block' && Buffer.from(got.hashes).equals(hashes));
    const failed = await until('the error', () => c.messages.some((m) => m.type === 'manifest' && m.id === 2)).then(() => c.messages.find((m) => m.type === 'manifest' && m.id === 2));
    assert.ok(failed?.type === 'manifest');
    assert.equal(failed.last, true);
    assert.match(failed.error ?? '', /manifest of volume "gone": no volume gone/);
    c.socket.destroy();
  });

  it('stops reading while too much waits for the journal, and reads on after ACKs', async () => {
    const own = await startReceiver({ host: '127.0.0.1', port: 0, tls: identity, lookup: (vpg) => streams.get(vpg), maxPendingBytes: 200_000 });
    const stream = testStream(TOKEN);
    streams.set('pressure', stream);
    const c = new RawClient(await tlsOverTcp(own.port));
    c.send({ type: 'hello', vpg: 'pressure', token: TOKEN, senderId: 's' });
    await c.next('welcome');
    stream.journal.hold();
    const batch = (first: number): Message => ({ type: 'records', firstSeq: first, records: Array.from({ length: 10 }, (_, i) => encodeRecord({ kind: 'op', volume: 'data', op: { op: 'write', id: 1, offset: (first + i) * 4000, data: randomBytes(4000) } })) });
    // 100 batches of ~40 KB: 4 MB, twenty times the limit.
    for (let i = 0; i < 100; i++) c.send(batch(1 + i * 10));
    await until('reading paused', () => (own.connections()[0]?.pendingBytes ?? 0) > 200_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pending = own.connections()[0]?.pendingBytes ?? 0;
    // At most one read's worth of frames past the limit (a TLS read is ≤ 16 KiB of records + one frame).
    assert.ok(pending < 200_000 + 128 * 1024, `${pending} bytes pending`);
    assert.ok(stream.journal.appendCalls < 100, 'not everything was read');
    stream.journal.release();
    await until('all durable', () => stream.journal.durableSeq === 1000);
    assert.equal(stream.journal.violation, undefined);
    c.socket.destroy();
    await own.close();
  });

  it('refuses a batch holding a record that does not check out, before anything is journaled', async () => {
    const stream = testStream(TOKEN);
    const c = await open('hostile', stream);
    const unlink = (path: string): Buffer => {
      const p = Buffer.from(path);
      return Buffer.concat([Buffer.from([7, 0, 4]), Buffer.from('data'), Buffer.from([p.length >> 8, p.length & 0xff]), p]);
    };
    c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1)), unlink('../../etc/passwd')] });
    await expectError(c, 'BadMessage', /record seq 2: unlink path "\.\.\/\.\.\/etc\/passwd" has a "\.\." segment/);
    assert.equal(stream.journal.durableSeq, 0, 'not even the good record of the batch');
    const other = await open('hostile-volume', { ...testStream(TOKEN), volumes: new Map([['data', 'fs' as const]]) });
    other.send({ type: 'records', firstSeq: 1, records: [encodeRecord({ kind: 'op', volume: 'logs', op: { op: 'truncate', id: 1, size: 0 } })] });
    await expectError(other, 'BadMessage', /record seq 1: volume logs is not a volume of this stream/);
  });

  it('reads the stream\'s volumes live: a removed volume\'s records are journaled (and skipped later), a reset one ends the link with VolumeReset', async () => {
    const takes = new Map<string, 'apply' | 'ignore' | 'reset'>([['data', 'apply'], ['old', 'ignore']]);
    const stream: TestStream & ReceiverStream = { ...testStream(TOKEN), volume: (name) => {
      const take = takes.get(name);
      return take === undefined ? undefined : { kind: 'fs', take };
    } };
    const c = await open('volumes-live', stream);
    const opOn = (volume: string): Record => ({ kind: 'op', volume, op: { op: 'truncate', id: 1, size: 0 } });
    c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(opOn('data')), encodeRecord(opOn('old'))] });
    assert.equal((await c.next('ack')).durableSeq, 2);
    // The volume is added again on this side while the link is up: the same sender's next record
    // of it (or a checkpoint naming it) builds on data this side no longer has.
    takes.set('old', 'reset');
    c.send({ type: 'records', firstSeq: 3, records: [encodeRecord(opOn('data')), encodeRecord({ kind: 'checkpoint', checkpoint: { time: 1, tag: '', volumes: [{ volume: 'old', digest: new Uint8Array(32) }] } })] });
    await expectError(c, 'VolumeReset', /^record seq 4: volume old was added to this stream on the recovery side after the source last synced it/);
    assert.equal(stream.journal.durableSeq, 2, 'nothing of the refused batch');
    const again = await open('volumes-live', stream);
    again.send({ type: 'records', firstSeq: 3, records: [encodeRecord(opOn('old'))] });
    await expectError(again, 'VolumeReset', /^record seq 3: volume old/);
    const unknown = await open('volumes-live', stream);
    unknown.send({ type: 'records', firstSeq: 3, records: [encodeRecord(opOn('never'))] });
    await expectError(unknown, 'BadMessage', /record seq 3: volume never is not a volume of this stream/);
  });

  it('refuses at the handshake a client that offers only another application protocol', async () => {
    const attempt = (protocols: string[]): Promise<string> => new Promise((resolve) => {
      const tls = tlsConnect({ host: '127.0.0.1', port: receiver.port, ca: identity.cert, servername: SERVERNAME, minVersion: 'TLSv1.3', ALPNProtocols: protocols });
      tls.once('secureConnect', () => {
        resolve(`connected ${String(tls.alpnProtocol)}`);
        tls.destroy();
      });
      tls.once('error', (err: Error) => resolve(`refused: ${err.message}`));
    });
    assert.match(await attempt(['h2', 'http/1.1']), /^refused: .*no application protocol/i);
    assert.equal(await attempt([REPLICATION_ALPN]), `connected ${REPLICATION_ALPN}`);
  });

  it('ends the link when the journal fails, and logs it', async () => {
    const stream = testStream(TOKEN);
    stream.journal.failNext = new Error('disk full');
    const c = await open('failing', stream);
    c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1))] });
    await expectError(c, 'JournalFailed', /could not append seqs 1\.\.1/);
    assert.ok(logs.some((l) => l.level === 'error' && l.msg === 'journal append failed'));
  });

  it('close() tells every sender ShuttingDown and waits for appends', async () => {
    const own = await startReceiver({ host: '127.0.0.1', port: 0, tls: identity, lookup: (vpg) => streams.get(vpg) });
    const stream = testStream(TOKEN);
    streams.set('stopping', stream);
    const c = new RawClient(await tlsOverTcp(own.port));
    c.send({ type: 'hello', vpg: 'stopping', token: TOKEN, senderId: 's' });
    await c.next('welcome');
    stream.journal.hold();
    c.send({ type: 'records', firstSeq: 1, records: [encodeRecord(op(1))] });
    await c.sync();
    let closed = false;
    const closing = own.close().then(() => (closed = true));
    await expectError(c, 'ShuttingDown', /the receiver is stopping/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false, 'close waits for the append in flight');
    stream.journal.release();
    await closing;
    assert.equal(stream.journal.durableSeq, 1);
  });

  it('(the fake journal notices an append that does not continue it)', async () => {
    const j = new MemoryJournal();
    await j.append([{ seq: 2, bytes: Buffer.from([1]) }]);
    assert.match(j.violation ?? '', /append of seq 2 after 0/);
  });
});
