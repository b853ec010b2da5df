// The sender against a real receiver over TLS on loopback, through the fault proxy: a plain TCP hop
// with TLS end to end, as through a ZCC tunnel.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { startFaultProxy, type FaultProxy } from '../../../test/support/fault-proxy.ts';
import { encodeRecord } from '../codec.ts';
import type { Record } from '../ops.ts';
import { startReceiver, type Receiver, type ReceiverStream } from './receiver.ts';
import { Sender, SenderError, type SenderOptions } from './sender.ts';
import { identity, MemoryJournal, testStream, tlsOverTcp, until, type TestStream } from './ship.test-support.ts';

const TOKEN = randomBytes(24).toString('base64url');

const write = (i: number, size = 64, random = true): Record => ({
  kind: 'op',
  volume: 'data',
  op: { op: 'write', id: 1 + (i % 7), offset: i * size, data: random ? randomBytes(size) : Buffer.alloc(size, i % 251) },
});
const checkpoint = (time: number): Record => ({ kind: 'checkpoint', checkpoint: { time, tag: '', volumes: [] } });

describe('sender', () => {
  const streams = new Map<string, ReceiverStream>();
  let receiver: Receiver;
  let proxy: FaultProxy;
  const senders: Sender[] = [];

  const sender = (vpg: string, o: Partial<SenderOptions> = {}): Sender => {
    const s = new Sender({
      vpg,
      token: TOKEN,
      senderId: 'vra-prod-1',
      connect: () => tlsOverTcp(proxy.port),
      bufferBytes: 4 * 1024 * 1024,
      backoff: { initialMs: 20, maxMs: 200 },
      helloTimeoutMs: 3000,
      ...o,
    });
    senders.push(s);
    return s;
  };
  const stream = (vpg: string, journal = new MemoryJournal()): TestStream => {
    const s = testStream(TOKEN, journal);
    streams.set(vpg, s);
    return s;
  };
  /** Pushes and requires acceptance. */
  const pushAll = async (s: Sender, records: Record[]): Promise<number[]> => {
    const seqs: number[] = [];
    for (const r of records) {
      const seq = await s.push(r);
      assert.notEqual(seq, false, `push ${seqs.length} refused: ${JSON.stringify(s.status())}`);
      if (seq !== false) seqs.push(seq);
    }
    return seqs;
  };

  before(async () => {
    receiver = await startReceiver({ host: '127.0.0.1', port: 0, tls: identity, lookup: (vpg) => streams.get(vpg) });
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: receiver.port } });
  });
  // Each test's senders go before the next test: a proxy cut reaches every link through it.
  afterEach(async () => {
    for (const s of senders.splice(0)) await s.close();
    proxy.up();
    proxy.resume('up');
    proxy.resume('down');
    proxy.tap(undefined);
  });
  after(async () => {
    await proxy.close();
    await receiver.close();
  });

  it('ships records in order, reports the durable checkpoint, and needs a delta sync at first', async () => {
    const { journal } = stream('flow');
    const s = sender('flow');
    assert.equal(await s.push(write(0)), false, 'no seq before the receiver said where the stream stands');
    await s.waitConnected();
    assert.equal(s.needsDeltaSync, true);
    const records = [write(1), write(2, 100_000, false), checkpoint(1764000000000), write(3), checkpoint(1764000005000), write(4)];
    const seqs = await pushAll(s, records);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
    await s.waitDurable(6);
    assert.deepEqual(journal.records.map((r) => r.seq), seqs);
    assert.deepEqual(journal.records.map((r) => r.bytes), records.map((r) => encodeRecord(r, { compress: true })));
    const st = s.status();
    assert.equal(st.state, 'connected');
    assert.equal(st.durableSeq, 6);
    assert.deepEqual(st.durableCheckpoint, { seq: 5, time: 1764000005000 });
    assert.equal(st.bufferedBytes, 0);
    assert.equal(st.records, 6);
    assert.ok(st.rawBytes > st.recordBytes, 'the zeros compressed');
    assert.ok(st.wireBytes > st.recordBytes);
    s.deltaSyncDone();
    assert.equal(s.needsDeltaSync, false);
  });

  it('sends each write from where it is held, and lets it go only once the receiver has it durable', async () => {
    const { journal } = stream('frames');
    const s = sender('frames', { bufferBytes: 64 * 1024 * 1024 });
    await s.waitConnected();
    // 24 MiB of writes, with the hop not reading for a while, so that writes wait in the socket.
    // Each write's data is spoiled the moment the sender lets it go, as a capture's arena would
    // use it again: let go too early, it would reach the journal spoiled.
    proxy.stall('up');
    const records = Array.from({ length: 96 }, (_, i) => write(i, 256 * 1024));
    const expected = records.map((r) => encodeRecord(r, { compress: true }));
    const released: number[] = [];
    const seqs: number[] = [];
    for (const [i, r] of records.entries()) {
      const seq = await s.push(r, () => {
        released.push(i);
        if (r.kind === 'op' && r.op.op === 'write') r.op.data.fill(0xee);
      });
      assert.notEqual(seq, false);
      if (seq !== false) seqs.push(seq);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(released, [], 'nothing is durable yet');
    proxy.resume('up');
    await s.waitDurable(seqs.at(-1) ?? 0);
    assert.deepEqual(journal.records.map((r) => r.bytes), expected);
    assert.deepEqual(released, records.map((_, i) => i), 'each write let go once, in order');
  });

  it('lets a write go at once when it keeps no view of it: refused, compressed, or no write at all', async () => {
    stream('letgo');
    const s = sender('letgo', { bufferBytes: 4 * 1024 * 1024 });
    await s.waitConnected();
    let calls = 0;
    const done = (): void => {
      calls++;
    };
    assert.notEqual(await s.push(write(1, 64 * 1024, false), done), false);
    assert.equal(calls, 1, 'compressed: the record holds a copy, not the data');
    assert.notEqual(await s.push(checkpoint(1764000000000), done), false);
    assert.equal(calls, 2);
    assert.notEqual(await s.push(write(2, 64 * 1024), done), false);
    assert.equal(calls, 2, 'random data goes as it is: held until durable');
    await s.close();
    assert.equal(calls, 3, 'a closed sender lets go of what it held');
    assert.equal(await s.push(write(3), done), false);
    assert.equal(calls, 4, 'refused: let go at once');
  });

  it('continues after the receiver\'s durableSeq when it has no state of its own', async () => {
    const journal = new MemoryJournal();
    await journal.append([1, 2, 3, 4, 5].map((seq) => ({ seq, bytes: encodeRecord(write(seq)) })));
    stream('continue', journal);
    const s = sender('continue');
    await s.waitConnected();
    assert.equal(s.status().nextSeq, 6);
    assert.equal(await s.push(write(6)), 6);
    await s.waitDurable(6);
    assert.equal(journal.violation, undefined);
  });

  it('resends after cuts: nothing lost, nothing duplicated', async () => {
    const { journal } = stream('cuts');
    // A small buffer keeps records in flight (sent, not yet acknowledged) at every cut.
    const s = sender('cuts', { batchBytes: 16 * 1024, bufferBytes: 64 * 1024, stallMs: 60_000 });
    await s.waitConnected();
    const records = Array.from({ length: 600 }, (_, i) => write(i, 2000));
    let cuts = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      assert.ok(r);
      let seq = await s.push(r);
      while (seq === false) {
        await s.waitConnected();
        seq = await s.push(r);
      }
      assert.equal(seq, i + 1);
      if (i % 150 === 75) {
        await s.waitConnected();
        proxy.cut();
        cuts++;
      }
    }
    await s.waitDurable(records.length);
    assert.equal(journal.violation, undefined);
    assert.deepEqual(journal.records.map((r) => r.seq), records.map((_, i) => i + 1));
    assert.ok(journal.records.every((r, i) => r.bytes.equals(encodeRecord(records[i] ?? write(0), { compress: true }))));
    const st = s.status();
    assert.ok(st.reconnects >= cuts, `${st.reconnects} reconnects after ${cuts} cuts`);
    assert.ok(st.resentRecords > 0, 'some records went out twice on the wire');
  });

  it('frames a write with the CRC its capture gave; a wrong one never becomes durable', async () => {
    const { journal } = stream('crc');
    const s = sender('crc');
    await s.waitConnected();
    const records = Array.from({ length: 10 }, (_, i) => write(i, 5000 + i * 1000));
    const crcOf = (r: Record): number => (r.kind === 'op' && r.op.op === 'write' ? crc32(r.op.data) : 0);
    for (const r of records) assert.notEqual(await s.push(r, undefined, crcOf(r)), false);
    await s.waitDurable(10);
    assert.deepEqual(journal.records.map((r) => r.bytes), records.map((r) => encodeRecord(r)));
    assert.equal(journal.violation, undefined);
    // The receiver checks the frame against the data it got: a CRC that is not the data's fails
    // the frame, the link with it, and each resend again.
    const bad = write(10, 6000);
    assert.equal(await s.push(bad, undefined, (crcOf(bad) ^ 1) >>> 0), 11);
    await until('the link failed and came back twice', () => s.status().reconnects >= 2);
    assert.equal(journal.durableSeq, 10);
    assert.equal(journal.violation, undefined);
  });

  it('a byte corrupted on the wire breaks TLS, not the journal; the sender reconnects and resends', async () => {
    const { journal } = stream('corrupt');
    const s = sender('corrupt');
    await s.waitConnected();
    const before = proxy.stats.accepted;
    proxy.corrupt({ offset: 5000, direction: 'up', connection: before + 1 });
    proxy.cut();
    await until('the corrupted connection', () => proxy.stats.accepted > before);
    const records = Array.from({ length: 20 }, (_, i) => write(i, 1000));
    for (const r of records) {
      while ((await s.push(r)) === false) await s.waitConnected();
    }
    await s.waitDurable(20);
    assert.equal(proxy.stats.corrupted, 1);
    assert.ok(s.status().reconnects >= 2);
    assert.deepEqual(journal.records.map((r) => r.seq), records.map((_, i) => i + 1));
    assert.equal(journal.violation, undefined);
  });

  it('keeps the buffer bound under a stalled receiver, and push resolves false when no room comes', async () => {
    const { journal } = stream('stall');
    const limit = 256 * 1024;
    const s = sender('stall', { bufferBytes: limit, stallMs: 300, windowBytes: 64 * 1024 });
    await s.waitConnected();
    journal.hold();
    let refused = 0;
    let accepted = 0;
    for (let i = 0; i < 200 && refused === 0; i++) {
      const seq = await s.push(write(i, 8000));
      if (seq === false) refused++;
      else accepted++;
      const st = s.status();
      assert.ok(st.bufferedBytes <= st.bufferLimit, `buffered ${st.bufferedBytes} > ${st.bufferLimit}`);
    }
    assert.equal(refused, 1, 'a push gave up after stallMs');
    assert.ok(accepted * 8000 >= limit * 0.9, `${accepted} records filled the buffer`);
    assert.equal(s.status().state, 'connected');
    journal.release();
    await s.waitDurable(accepted);
    assert.equal(s.status().bufferedBytes, 0);
    assert.equal(await s.push(write(999)), accepted + 1, 'room again after the ACKs');
  });

  it('waits for room while the link is up, and gets it when ACKs come', async () => {
    const { journal } = stream('room');
    const s = sender('room', { bufferBytes: 32 * 1024, stallMs: 60_000 });
    await s.waitConnected();
    journal.hold();
    const pushes = Array.from({ length: 12 }, (_, i) => s.push(write(i, 8000)));
    await until('pushes waiting', () => s.status().waitingPushes > 0);
    assert.ok(s.status().bufferedBytes <= 32 * 1024);
    journal.release();
    assert.deepEqual(await Promise.all(pushes), Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('tells onAccepted of each op record it takes, once, also when a push waited for room; never of refused pushes or checkpoints', async () => {
    const { journal } = stream('accepted');
    const seen: { volume: string; recordBytes: number; rawBytes: number }[] = [];
    const s = sender('accepted', { bufferBytes: 32 * 1024, stallMs: 60_000, onAccepted: (volume, recordBytes, rawBytes) => seen.push({ volume, recordBytes, rawBytes }) });
    await s.waitConnected();
    journal.hold();
    const records = Array.from({ length: 12 }, (_, i) => write(i, 8000, i % 2 === 0));
    const pushes = records.map((r) => s.push(r));
    await until('pushes waiting', () => s.status().waitingPushes > 0);
    assert.ok(seen.length < records.length, 'a waiting push is not accepted yet');
    journal.release();
    await Promise.all(pushes);
    assert.deepEqual(seen, records.map((r) => ({ volume: 'data', recordBytes: encodeRecord(r, { compress: true }).length, rawBytes: 19 + 4 + 8000 })));
    assert.ok(seen.some((a) => a.recordBytes < a.rawBytes / 4), 'compressible data is counted as encoded');
    await s.push(checkpoint(Date.now()));
    assert.equal(seen.length, records.length, 'a checkpoint is not an op');
    await s.waitDurable(s.status().nextSeq - 1);

    proxy.down();
    try {
      await until('link down', () => s.status().state !== 'connected');
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < 20; i++) {
        if ((await s.push(write(i, 8000))) === false) refused++;
        else accepted++;
      }
      assert.ok(refused > 0 && accepted > 0);
      assert.equal(seen.length, records.length + accepted);
    } finally {
      proxy.up();
    }
  });

  it('push resolves false at once when the buffer is full and the link is down', async () => {
    stream('down');
    const s = sender('down', { bufferBytes: 64 * 1024, stallMs: 60_000 });
    await s.waitConnected();
    proxy.down();
    try {
      await until('link down', () => s.status().state !== 'connected');
      const seqs: (number | false)[] = [];
      for (let i = 0; i < 20; i++) seqs.push(await s.push(write(i, 8000)));
      const firstRefused = seqs.indexOf(false);
      assert.ok(firstRefused > 0, 'records fit the buffer while the link is down');
      assert.ok(seqs.slice(firstRefused).every((v) => v === false));
      assert.ok(s.status().refusedPushes >= 1);
      assert.ok(s.status().bufferedBytes <= 64 * 1024);
    } finally {
      proxy.up();
    }
    await s.waitConnected();
    await s.waitDurable(s.status().nextSeq - 1);
    assert.equal(s.status().bufferedBytes, 0);
  });

  it('runs TLS end to end through the hop: the proxy sees neither the token nor the records', async () => {
    const { journal } = stream('opaque');
    const marker = Buffer.from('a distinctive plaintext marker, 0123456789');
    const seen: Buffer[] = [];
    proxy.tap((_direction, chunk) => seen.push(Buffer.from(chunk)));
    try {
      const s = sender('opaque', { compress: false });
      await s.waitConnected();
      await pushAll(s, [{ kind: 'op', volume: 'data', op: { op: 'write', id: 1, offset: 0, data: Buffer.concat([marker, marker]) } }]);
      await s.waitDurable(1);
    } finally {
      proxy.tap(undefined);
    }
    const wire = Buffer.concat(seen);
    assert.ok(wire.length > 1000);
    assert.ok(journal.records[0]?.bytes.includes(marker), 'the journal got the plaintext');
    assert.equal(wire.includes(marker), false, 'the hop saw the record in clear');
    assert.equal(wire.includes(Buffer.from(TOKEN)), false, 'the hop saw the token in clear');
    assert.equal(wire.includes(Buffer.from('ZCSR')), false, 'the hop saw frame headers');
  });

  it('gives up a connection attempt that gets no WELCOME in time, and retries', async () => {
    stream('hello-timeout');
    proxy.stall('down');
    let s: Sender;
    try {
      s = sender('hello-timeout', { helloTimeoutMs: 300 });
      await until('a timed-out attempt', () => /took longer than 300 ms|no WELCOME within 300 ms/.test(s.status().lastError ?? ''));
      assert.notEqual(s.status().state, 'connected');
    } finally {
      proxy.resume('down');
    }
    await s.waitConnected();
    assert.ok(s.status().reconnects >= 1);
  });

  it('retries a connect() that fails, and close() does not wait for one that hangs', async () => {
    let attempts = 0;
    const failing = sender('nowhere', {
      connect: () => {
        attempts++;
        return Promise.reject(new Error(`connect ECONNREFUSED (attempt ${attempts})`));
      },
    });
    await until('three attempts', () => attempts >= 3);
    assert.match(failing.status().lastError ?? '', /ECONNREFUSED/);
    assert.equal(failing.status().state === 'connected', false);
    assert.equal(await failing.push(write(1)), false);
    await failing.close();
    const hanging = sender('nowhere', { connect: () => new Promise<never>(() => undefined), helloTimeoutMs: 600_000 });
    await until('connecting', () => hanging.status().state === 'connecting');
    await hanging.close();
    assert.equal(hanging.status().reconnects, 0);
  });

  it('a second sender of the same VPG replaces the first and continues after its records', async () => {
    const { journal } = stream('twins');
    const first = sender('twins', { backoff: { initialMs: 5000, maxMs: 5000 } });
    await first.waitConnected();
    await pushAll(first, [write(1), write(2)]);
    await first.waitDurable(2);
    const second = sender('twins', { senderId: 'vra-prod-2' });
    await second.waitConnected();
    await until('the first replaced', () => first.status().lastErrorCode === 'Replaced');
    await first.close();
    assert.equal(second.status().nextSeq, 3);
    assert.equal(second.needsDeltaSync, true);
    assert.equal(await second.push(write(3)), 3);
    await second.waitDurable(3);
    assert.deepEqual(journal.records.map((r) => r.seq), [1, 2, 3]);
    assert.equal(journal.violation, undefined);
  });

  it('a wrong token: Unauthenticated, never connected, the journal untouched', async () => {
    const { journal } = stream('auth');
    const s = sender('auth', { token: 'not-the-token' });
    await until('a refusal', () => (s.status().lastError ?? '').includes('Unauthenticated'));
    assert.match(s.status().lastError ?? '', /Unauthenticated: invalid credentials/);
    assert.equal(s.status().lastErrorCode, 'Unauthenticated');
    assert.notEqual(s.status().state, 'connected');
    assert.equal(journal.appendCalls, 0);
    await s.close();
    await assert.rejects(s.waitConnected(), (err: unknown) => err instanceof SenderError && err.code === 'Closed');
  });

  it('notices a dead link (no bytes, no reset) within seconds and comes back', async () => {
    const { journal } = stream('dead');
    const s = sender('dead', { keepaliveMs: 100, deadAfterMs: 700 });
    await s.waitConnected();
    await pushAll(s, [write(1)]);
    await s.waitDurable(1);
    proxy.stall('down');
    try {
      await until('the dead link noticed', () => s.status().state !== 'connected' || s.status().reconnects > 0, 5000);
      assert.match(s.status().lastError ?? '', /nothing from the receiver for \d+ ms/);
    } finally {
      proxy.resume('down');
    }
    await s.waitConnected();
    await pushAll(s, [write(2)]);
    await s.waitDurable(2);
    assert.equal(journal.violation, undefined);
  });

  it('fetches manifests over the link (delta sync)', async () => {
    const st = stream('manifest');
    st.manifests.set('data', { kind: 'fs', entries: new Map([['a', { type: 'dir', mode: 0o755 }]]) });
    const s = sender('manifest');
    await assert.rejects(s.fetchManifest('data'), (err: unknown) => err instanceof SenderError && err.code === 'LinkDown');
    await s.waitConnected();
    assert.deepEqual(await s.fetchManifest('data'), st.manifests.get('data'));
    await assert.rejects(s.fetchManifest('other'), /ManifestFailed: manifest of volume "other": no volume other/);
  });

  it('starts over after the receiver\'s journal when it does not continue the stream', async () => {
    const { journal } = stream('reset');
    const s = sender('reset');
    await s.waitConnected();
    await pushAll(s, [write(1), write(2), write(3)]);
    await s.waitDurable(3);
    s.deltaSyncDone();
    const fresh = new MemoryJournal();
    await fresh.append([{ seq: 1, bytes: encodeRecord(write(1)) }]);
    stream('reset', fresh);
    journal.hold();
    const pending = await s.push(write(4));
    const durable = s.waitDurable(4);
    proxy.cut();
    await assert.rejects(durable, (err: unknown) => err instanceof SenderError && err.code === 'StreamReset');
    assert.equal(pending, 4);
    assert.equal(s.needsDeltaSync, true);
    assert.equal(s.status().nextSeq, 2);
    // Until the capture has synced again, a pass running across the reset cannot build on the dropped records.
    assert.equal(await s.push(write(5)), false);
    s.deltaSyncDone();
    assert.equal(await s.push(write(5)), 2);
    await s.waitDurable(2);
    assert.equal(fresh.violation, undefined);
    journal.release();
  });

  it('starts over after the journal when the receiver resets a volume (VolumeReset), and takes no push until synced again', async () => {
    const st = stream('volume-reset');
    const takes = new Map<string, 'apply' | 'reset'>([['data', 'apply']]);
    streams.set('volume-reset', { ...st, volume: (name) => {
      const take = takes.get(name);
      return take === undefined ? undefined : { kind: 'fs', take };
    } });
    const s = sender('volume-reset');
    await s.waitConnected();
    s.deltaSyncDone();
    await pushAll(s, [write(1), write(2)]);
    await s.waitDurable(2);
    st.journal.hold();
    takes.set('data', 'reset');
    const dropped = await s.push(write(3));
    const durable = s.waitDurable(3);
    st.journal.release();
    await assert.rejects(durable, (err: unknown) => err instanceof SenderError && err.code === 'StreamReset' && /VolumeReset: record seq 3: volume data was added/.test(err.message));
    assert.equal(dropped, 3);
    await until('reconnected, asking for a delta sync', () => s.status().state === 'connected' && s.needsDeltaSync);
    assert.equal(s.status().nextSeq, 3, 'after the receiver\'s journal');
    assert.equal(await s.push(write(4)), false, 'no push builds on the dropped records');
    takes.set('data', 'apply');
    s.deltaSyncDone();
    assert.equal(await s.push(write(4)), 3);
    await s.waitDurable(3);
    assert.deepEqual(st.journal.records.map((r) => r.seq), [1, 2, 3]);
    assert.equal(st.journal.violation, undefined);
  });

  it('limits bandwidth with a token bucket on wire bytes, changeable at runtime', async () => {
    stream('slow');
    const rate = 4 * 1024 * 1024;
    const s = sender('slow', { bandwidthBytesPerSecond: rate, compress: false });
    await s.waitConnected();
    await pushAll(s, Array.from({ length: 40 }, (_, i) => write(i, 64 * 1024)));
    await s.waitDurable(40);
    const st = s.status();
    const b = st.bandwidth;
    assert.equal(b.rate, rate);
    assert.equal(b.grantedBytes, st.wireBytes, 'every frame went through the bucket');
    assert.ok(b.waits > 0, 'frames waited for tokens');
    const elapsedMs = (b.lastGrantAt ?? 0) - (b.firstGrantAt ?? 0);
    const maxFrame = 1024 * 1024 + 64 * 1024;
    assert.ok(b.grantedBytes <= Math.max(64 * 1024, rate / 4) + (rate * elapsedMs) / 1000 + maxFrame, `${b.grantedBytes} bytes in ${elapsedMs} ms`);
    s.setBandwidth(undefined);
    assert.equal(s.status().bandwidth.rate, undefined);
    const waits = s.status().bandwidth.waits;
    await pushAll(s, Array.from({ length: 40 }, (_, i) => write(i, 64 * 1024)));
    await s.waitDurable(80);
    assert.equal(s.status().bandwidth.waits, waits, 'unlimited: no more waiting');
  });

  it('close(): waiting pushes resolve false, waiters reject, pushes after it are refused', async () => {
    const { journal } = stream('close');
    const s = sender('close', { bufferBytes: 16 * 1024 });
    await s.waitConnected();
    journal.hold();
    const pushes = Array.from({ length: 6 }, (_, i) => s.push(write(i, 8000)));
    const durable = s.waitDurable(1);
    await until('a waiting push', () => s.status().waitingPushes > 0);
    await s.close();
    await assert.rejects(durable, /Closed/);
    const results = await Promise.all(pushes);
    assert.ok(results.includes(false));
    assert.equal(await s.push(write(9)), false);
    journal.release();
  });
});
