// A real receiving VRA fed what a broken or hostile peer might send, and a journal damaged on disk.
// Each gets an answer that names the problem, and harms nothing: the VRA keeps serving, nothing of
// the bad input is journaled, and every acknowledged checkpoint still materialises exactly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { encodeRecord } from '../../src/replicator/codec.ts';
import { FrameDecoder, HEADER_BYTES, MAGIC, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, encodeFrame } from '../../src/replicator/wire/frame.ts';
import { decodeMessage, encodeMessage, INVALID_CREDENTIALS, MESSAGE_TYPES, type Message } from '../../src/replicator/wire/messages.ts';
import { Pair, STREAM, waitUntil, writeRandomFile, type SourceSnapshot } from './support/pair.ts';
import { diffSnapshots } from './support/snapshot.ts';

/** A raw replication client: writes whatever bytes it is given, reads back the target's frames. */
class RawLink {
  readonly #socket: TLSSocket;
  readonly #decoder = new FrameDecoder();
  readonly #queue: Message[] = [];
  #ended = false;
  #failed: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.#decoder.push(chunk)) this.#queue.push(decodeMessage(frame));
      } catch (err: unknown) {
        this.#failed = err as Error;
        socket.destroy();
      }
      this.#notify();
    });
    const ended = (): void => {
      this.#ended = true;
      this.#notify();
    };
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', ended);
  }

  static open(pair: Pair): Promise<RawLink> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: pair.target.replicationPort, ca: pair.target.cert, servername: 'vra.zcsp.io' });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawLink(socket));
      });
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /** Half-closes: the target may still answer. */
  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next message other than PING/PONG; undefined once the target closed the connection. */
  async next(timeoutMs = 20_000): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.#queue.shift();
      if (m !== undefined) {
        if (m.type === 'ping' || m.type === 'pong') continue;
        return m;
      }
      if (this.#failed !== undefined) throw this.#failed;
      if (this.#ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer from the target within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Everything up to the close (PING/PONG left out). */
  async rest(): Promise<Message[]> {
    const out: Message[] = [];
    for (let m = await this.next(); m !== undefined; m = await this.next()) out.push(m);
    return out;
  }
}

function hello(token: string, senderId: string): Buffer {
  return encodeMessage({ type: 'hello', vpg: STREAM, token, senderId });
}

/** A mkdir record written by hand: the codec's encoder refuses the hostile ones. */
function mkdirRecord(volume: string, path: string): Buffer {
  const v = Buffer.from(volume);
  const p = Buffer.from(path);
  const out = Buffer.alloc(2 + 1 + v.length + 4 + 2 + p.length);
  let at = out.writeUInt8(1, 0); // mkdir
  at = out.writeUInt8(0, at);
  at = out.writeUInt8(v.length, at);
  at += v.copy(out, at);
  at = out.writeUInt32BE(0o755, at);
  at = out.writeUInt16BE(p.length, at);
  p.copy(out, at);
  return out;
}

/** Journal segment records: u32 length | u32 crc | u48 seq | u8 flags | u8 0 | bytes. */
function segmentRecords(segment: Buffer): { offset: number; seq: number; length: number; type: number }[] {
  const out: { offset: number; seq: number; length: number; type: number }[] = [];
  for (let at = 0; at + 16 <= segment.length;) {
    const length = segment.readUInt32BE(at);
    out.push({ offset: at, seq: segment.readUIntBE(at + 8, 6), length, type: segment[at + 16] ?? -1 });
    at += 16 + length;
  }
  return out;
}

describe('bad input to a receiving VRA', () => {
  let pair: Pair;
  /** Every checkpoint the source was told is durable, with the source as it was then. */
  const acknowledged = new Map<number, SourceSnapshot>();

  const durableSeq = async (): Promise<number> => {
    const seq = (await pair.targetStatus())['durableSeq'];
    assert.equal(typeof seq, 'number');
    return seq as number;
  };

  const checkpointNow = async (tag: string): Promise<number> => {
    const seq = await pair.checkpoint(tag);
    acknowledged.set(seq, pair.snapshot());
    return seq;
  };

  const assertServing = async (): Promise<void> => {
    const res = await fetch(`${pair.target.healthUrl}/healthz`);
    assert.equal(res.status, 200, `/healthz: ${await res.text()}`);
    process.kill(pair.target.pid, 0);
  };

  const assertCheckpointsExact = async (): Promise<void> => {
    for (const [seq, expected] of acknowledged) {
      const got = await pair.materialise(seq);
      assert.deepEqual(diffSnapshots(expected.files, got.files), [], `checkpoint ${seq}`);
      assert.deepEqual(got.disk, expected.disk, `checkpoint ${seq} image`);
    }
  };

  /** A change on the source and a checkpoint of it, acknowledged by the target. */
  const replicationWorks = async (tag: string): Promise<void> => {
    await writeFile(join(pair.volume, `${tag}.txt`), `${tag} ${randomBytes(8).toString('hex')}\n`);
    await checkpointNow(tag);
  };

  /**
   * Takes the stream over with the right token (the source reconnects later), then sends what
   * `bytes` makes of the next seq. Returns the target's answer.
   */
  const sendAfterWelcome = async (bytes: (firstSeq: number) => Buffer): Promise<{ before: number; answer: Message | undefined }> => {
    const before = await durableSeq();
    for (let attempt = 1; ; attempt++) {
      const link = await RawLink.open(pair);
      link.write(hello(pair.streamToken, 'bad-input-test'));
      const welcome = await link.next();
      assert.ok(welcome?.type === 'welcome', JSON.stringify(welcome));
      assert.equal(welcome.durableSeq, before);
      link.write(bytes(before + 1));
      const answer = await link.next();
      link.destroy();
      // The source came back and took the stream over first: try again.
      if (answer?.type === 'error' && answer.code === 'Replaced' && attempt < 5) continue;
      return { before, answer };
    }
  };

  /** One batch: a valid record, `record`, a valid record. */
  const sendBatch = (record: Buffer): Promise<{ before: number; answer: Message | undefined }> => {
    const probe = mkdirRecord('files', 'bad-input-probe');
    return sendAfterWelcome((firstSeq) => encodeMessage({ type: 'records', firstSeq, records: [probe, record, probe] }));
  };

  const assertRefused = async (name: string, record: Buffer, problem: RegExp): Promise<void> => {
    const { before, answer } = await sendBatch(record);
    assert.ok(answer?.type === 'error', `${name}: ${JSON.stringify(answer)}`);
    assert.equal(answer.code, 'BadMessage', name);
    assert.match(answer.message, new RegExp(`^BadMessage: record seq ${before + 2}: ${problem.source}`), name);
    assert.equal(await durableSeq(), before, `${name}: nothing of the batch journaled`);
    await assertServing();
  };

  before(async () => {
    pair = await Pair.start({
      // Checkpoints only when the test asks for one, so durableSeq moves only then.
      checkpointIntervalMs: 3_600_000,
      imageBytes: 256 * 1024,
      prepare: async (p) => {
        await mkdir(join(p.volume, 'docs'), { recursive: true });
        await writeRandomFile(join(p.volume, 'docs', 'a.bin'), 150_000);
        await writeFile(join(p.volume, 'readme.txt'), 'hello\n');
      },
    });
    await checkpointNow('base');
  });
  after(async () => {
    await pair.close();
  });

  it('answers malformed frames with an ERROR naming the problem, and keeps serving', async () => {
    const before = await durableSeq();
    const valid = hello(pair.streamToken, 'bad-frames');
    const badMagic = Buffer.from(valid);
    badMagic.writeUInt32BE(0x4a554e4b, 0); // "JUNK"
    const badVersion = Buffer.from(valid);
    // A VRA of the version before (its manifests and digests are SHA-256 block hashes).
    badVersion.writeUInt8(PROTOCOL_VERSION - 1, 4);
    const badCrc = Buffer.from(valid);
    badCrc[HEADER_BYTES + 3] = (badCrc[HEADER_BYTES + 3] ?? 0) ^ 0x01;
    const tooLarge = Buffer.alloc(HEADER_BYTES);
    tooLarge.writeUInt32BE(MAGIC, 0);
    tooLarge.writeUInt8(PROTOCOL_VERSION, 4);
    tooLarge.writeUInt8(MESSAGE_TYPES.records, 5);
    tooLarge.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 8);
    const cases: { name: string; bytes: Buffer; close?: boolean; code: string; message: RegExp }[] = [
      { name: 'garbage', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: vra\r\n\r\n'), code: 'BadMagic', message: /frame at offset 0 starts with 0x47455420, not 0x5a435352/ },
      { name: 'bad magic', bytes: badMagic, code: 'BadMagic', message: /frame at offset 0 starts with 0x4a554e4b/ },
      { name: 'another version', bytes: badVersion, code: 'UnsupportedVersion', message: /frame at offset 0 is protocol version 1; this side speaks 2/ },
      { name: 'bad CRC', bytes: badCrc, code: 'BadChecksum', message: /frame at offset 0 \(type 1, \d+ bytes\) has CRC-32 0x[0-9a-f]{8}, its header says 0x[0-9a-f]{8}/ },
      { name: 'length over the limit', bytes: tooLarge, code: 'TooLarge', message: new RegExp(`frame at offset 0 announces ${MAX_PAYLOAD_BYTES + 1} payload bytes, more than ${MAX_PAYLOAD_BYTES}`) },
      { name: 'unknown type', bytes: encodeFrame(42, [Buffer.from('hi')]), code: 'UnknownType', message: /message type 42 is not one of 1\.\.10/ },
      { name: 'half a frame, then close', bytes: valid.subarray(0, HEADER_BYTES + 3), close: true, code: 'Truncated', message: new RegExp(`stream ended inside the frame at offset 0: ${HEADER_BYTES + 3} of ${valid.length} bytes`) },
    ];
    for (const c of cases) {
      const link = await RawLink.open(pair);
      link.write(c.bytes);
      if (c.close === true) link.end();
      const answers = await link.rest();
      link.destroy();
      assert.equal(answers.length, 1, `${c.name}: ${JSON.stringify(answers)}`);
      const answer = answers[0];
      assert.ok(answer?.type === 'error', `${c.name}: ${JSON.stringify(answer)}`);
      assert.equal(answer.code, c.code, c.name);
      assert.match(answer.message, c.message, c.name);
      await assertServing();
    }
    // The same after WELCOME: a RECORDS frame changed on the way.
    const { answer } = await sendAfterWelcome((firstSeq) => {
      const frame = encodeMessage({ type: 'records', firstSeq, records: [mkdirRecord('files', 'bad-input-probe')] });
      frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0x01;
      return frame;
    });
    assert.ok(answer?.type === 'error', JSON.stringify(answer));
    assert.equal(answer.code, 'BadChecksum');
    assert.match(answer.message, new RegExp(`frame at offset ${hello(pair.streamToken, 'bad-input-test').length} \\(type 4, \\d+ bytes\\) has CRC-32`));
    await assertServing();
    assert.equal(await durableSeq(), before, 'nothing journaled');
    await replicationWorks('after-bad-frames');
    await assertCheckpointsExact();
  });

  it('refuses wrong credentials with "invalid credentials" and touches nothing', async () => {
    await waitUntil('the source to be connected', async () => (await pair.sourceStatus()).connected, 30_000);
    const before = await durableSeq();
    const { reconnects } = await pair.sourceStatus();
    for (const token of ['', 'a-wrong-token-of-enough-length', `${pair.streamToken}x`]) {
      const link = await RawLink.open(pair);
      link.write(hello(token, 'bad-credentials'));
      // Whatever follows a refused HELLO is never read.
      link.write(encodeMessage({ type: 'records', firstSeq: before + 1, records: [mkdirRecord('files', 'intruder')] }));
      const answers = await link.rest();
      link.destroy();
      assert.deepEqual(answers, [{ type: 'refuse', code: 'Unauthenticated', message: INVALID_CREDENTIALS }]);
    }
    assert.equal(await durableSeq(), before, 'nothing journaled');
    const source = await pair.sourceStatus();
    assert.equal(source.connected, true, 'the source\'s connection was not replaced');
    assert.equal(source.reconnects, reconnects);
    await assertServing();
    await replicationWorks('after-bad-credentials');
    const latest = [...acknowledged.keys()].at(-1) ?? 0;
    assert.equal(existsSync(join((await pair.materialise(latest)).paths.files, 'intruder')), false);
  });

  it('refuses a batch with a hostile record, naming its seq, and journals none of the batch', async () => {
    const hostile: { name: string; record: Buffer; problem: RegExp }[] = [
      { name: '..', record: mkdirRecord('files', 'a/../../etc'), problem: /mkdir path "a\/\.\.\/\.\.\/etc" has a "\.\." segment/ },
      { name: 'absolute path', record: mkdirRecord('files', '/etc/cron.d'), problem: /mkdir path "\/etc\/cron\.d" is absolute/ },
      { name: 'NUL', record: mkdirRecord('files', 'a\0b'), problem: /mkdir path "a\\u0000b" contains NUL/ },
      { name: 'volume not in the stream', record: mkdirRecord('other-volume', 'x'), problem: /volume other-volume is not a volume of this stream/ },
      {
        name: 'truncated record',
        record: encodeRecord({ kind: 'op', volume: 'files', op: { op: 'create', path: 'cut-short.txt', id: 999_999, mode: 0o644 } }).subarray(0, 20),
        problem: /record ends inside create path \(20 bytes\)/,
      },
    ];
    for (const h of hostile) await assertRefused(h.name, h.record, h.problem);
    await replicationWorks('after-hostile-records');
    const latest = [...acknowledged.keys()].at(-1) ?? 0;
    assert.equal(existsSync(join((await pair.materialise(latest)).paths.files, 'bad-input-probe')), false);
    await assertCheckpointsExact();
  });

  it('refuses to open a journal whose acknowledged record is damaged, naming file and offset, and changes nothing', async () => {
    // Two checkpoints with a new file's data between them, then later commits after the damage.
    const beforeDamage = [...acknowledged.keys()].at(-1) ?? 0;
    await writeRandomFile(join(pair.volume, 'docs', 'between.bin'), 100_000);
    const cpB = await checkpointNow('damaged-between');
    await replicationWorks('later-1');
    await replicationWorks('later-2');
    await pair.target.stop();

    const journalDir = join(pair.target.options.dataDir, 'streams', STREAM, 'journal');
    const segments = readdirSync(journalDir).filter((n) => n.endsWith('.seg'));
    assert.deepEqual(segments, ['00000000000000000001.seg'], 'a small journal: one segment');
    const segmentPath = join(journalDir, segments[0] ?? '');
    const original = await readFile(segmentPath);
    const records = segmentRecords(original);
    const victim = records.filter((r) => r.seq > beforeDamage && r.seq < cpB && r.type === 4 /* write */).sort((a, b) => b.length - a.length)[0];
    assert.ok(victim !== undefined, 'a write record between the two checkpoints');
    assert.ok(records.some((r) => r.seq > cpB), 'records after the damage');
    const at = victim.offset + 16 + Math.floor(victim.length / 2);
    const damaged = Buffer.from(original);
    damaged[at] = (damaged[at] ?? 0) ^ 0xff;
    await writeFile(segmentPath, damaged);

    await pair.target.start();
    // The stream does not open: the log says why, naming the file and the damaged record's offset.
    const expected = `journal file ${segmentPath} is corrupt at offset ${victim.offset}: CRC mismatch (header says seq ${victim.seq}); an intact record written by a later commit follows at offset`;
    const line = await waitUntil('the journal failure in the log', async () => {
      const text = await readFile(pair.target.logFile, 'utf8');
      return text.split('\n').find((l) => l.includes('stream failed to start'));
    }, 10_000);
    assert.ok(line.includes(expected), line);
    assert.match(line, /proves this one was fsync'd \(acknowledged\): open refuses to cut it/);
    await assertServing();
    // The stream is not served (no materialise, no sender accepted into that journal), and the
    // control API says why instead of forgetting it.
    const status = await pair.target.control<{ status: { state: string; error: string } }>('GET', `/v1/streams/${STREAM}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.status.state, 'failed');
    assert.ok(status.body.status.error.startsWith(expected), status.body.status.error);
    const checkpoints = await pair.target.control<{ code: string; message: string }>('GET', `/v1/streams/${STREAM}/checkpoints`);
    assert.equal(checkpoints.status, 409);
    assert.match(checkpoints.body.message, /failed to start: journal file .* is corrupt/);
    const metrics = await (await fetch(`${pair.target.healthUrl}/metrics`)).text();
    assert.match(metrics, /zcsp_vra_stream_failed\{stream="vpg-web-0001",namespace="acme-prod",vpg="web",role="target"\} 1/);
    const link = await RawLink.open(pair);
    link.write(hello(pair.streamToken, 'bad-input-test'));
    assert.deepEqual(await link.rest(), [{ type: 'refuse', code: 'UnknownStream', message: `no stream ${JSON.stringify(STREAM)} on this receiver` }]);
    link.destroy();
    // The operator re-applying the configuration gets the same reason, not a fresh journal.
    const reapplied = await pair.target.control<{ code: string; message: string }>('PUT', `/v1/streams/${STREAM}`, pair.targetConfig());
    assert.equal(reapplied.status, 409);
    assert.equal(reapplied.body.code, 'JournalCorrupt');
    assert.ok(reapplied.body.message.startsWith(expected), reapplied.body.message);
    // Nothing was cut or rewritten: the segment is exactly as damaged.
    assert.ok((await readFile(segmentPath)).equals(damaged), 'the segment is unchanged');

    // Restoring the byte (the file restored from a copy) brings every acknowledged checkpoint back.
    await writeFile(segmentPath, original);
    const repaired = await pair.target.control('PUT', `/v1/streams/${STREAM}`, pair.targetConfig());
    assert.equal(repaired.status, 201, JSON.stringify(repaired.body));
    await assertCheckpointsExact();
    await waitUntil('the source to reconnect', async () => (await pair.sourceStatus()).connected, 30_000);
    await replicationWorks('after-repair');
    await assertCheckpointsExact();
  });

  it('refuses a compressed write whose data is cut short', async () => {
    const write = encodeRecord({ kind: 'op', volume: 'disk', op: { op: 'write', id: 0, offset: 0, data: Buffer.alloc(100_000, 7) } }, { compress: true });
    assert.equal(write[1], 1, 'the write is compressed');
    await assertRefused('truncated compressed write', write.subarray(0, write.length - 5), /write data does not decompress/);
  });

  it('refuses an op a volume of that kind cannot apply', async () => {
    await assertRefused('mkdir on a block volume', mkdirRecord('disk', 'x'), /volume disk: mkdir is not an operation on a block volume/);
  });
});
