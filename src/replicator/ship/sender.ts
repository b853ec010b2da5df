// The protected side of replication: takes records from the capture (a RecordSink, see the README
// of src/replicator), numbers them, keeps them in a bounded buffer until the receiver acknowledges
// them as durable, and ships them over a link it keeps up (reconnect with backoff, resend after
// the receiver's durableSeq). Protocol: ../wire/README.md.
import type { Duplex } from 'node:stream';
import { CompressionProbe, encodeRecordParts, recordLength, type RecordParts } from '../codec.ts';
import type { Manifest } from '../manifest.ts';
import type { Record } from '../ops.ts';
import { MAX_PAYLOAD_BYTES, ProtocolError } from '../wire/frame.ts';
import { decodeManifest, MAX_MANIFEST_BYTES } from '../wire/manifest-codec.ts';
import { encodeRecordsFrame, recordsFrameParts, PER_RECORD_OVERHEAD, RECORDS_OVERHEAD, VOLUME_RESET, type Checkpoint, type Message } from '../wire/messages.ts';
import { TokenBucket, type BucketStats } from './bandwidth.ts';
import { Connection, LinkError, readsInPlace } from './connection.ts';
import { SILENT, type Logger } from '../log.ts';
import { RecordBuffer } from './record-buffer.ts';

export interface SenderOptions {
  vpg: string;
  token: string;
  /** Who is sending (the protected VRA's name): logged by the receiver. */
  senderId: string;
  /** Opens a byte stream to the receiver, TLS already up (e.g. TLS inside a ZCC tunnel). */
  connect: () => Promise<Duplex>;
  /** Record bytes kept until acknowledged; pushes wait (then fail) past it. */
  bufferBytes: number;
  /** How long a push waits for room in a full buffer; default 30 s. */
  stallMs?: number;
  /** zstd for write data; default true. */
  compress?: boolean;
  bandwidthBytesPerSecond?: number;
  /** Record bytes sent and not yet acknowledged; default min(bufferBytes, 32 MiB). */
  windowBytes?: number;
  /** Record bytes per RECORDS frame; default 1 MiB. */
  batchBytes?: number;
  /** connect() plus WELCOME must take no longer; default 10 s. */
  helloTimeoutMs?: number;
  /** A PING goes out this often; default 2 s. */
  keepaliveMs?: number;
  /** Nothing received for this long: the link is dead; default 10 s. */
  deadAfterMs?: number;
  /** Reconnect delays double from initialMs up to maxMs (with jitter); default 200 ms, 10 s. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Called for each op record once it is accepted into the buffer (at push, or later for a push
   * that waited for room): its volume, its size as encoded and before compression. A refused push
   * never calls it, so a change the next pass reads again is seen once (change rate).
   */
  onAccepted?: (volume: string, recordBytes: number, rawBytes: number) => void;
  log?: Logger;
}

export type SenderState = 'connecting' | 'connected' | 'disconnected';

export interface SenderStatus {
  state: SenderState;
  /** Date.now() when the current link got its WELCOME. */
  connectedSince?: number;
  lastError?: string;
  /** Its protocol code when it had one: Unauthenticated, UnknownStream, Busy, Replaced, BadSeq … */
  lastErrorCode?: string;
  /** The seq the next pushed record gets (0 before the first WELCOME). */
  nextSeq: number;
  durableSeq: number;
  /** The newest checkpoint the receiver has made durable: RPO = now − time. */
  durableCheckpoint?: Checkpoint;
  /** Highest seq written to the current link. */
  sentSeq: number;
  bufferedBytes: number;
  bufferedRecords: number;
  bufferLimit: number;
  /** Pushes waiting for room. */
  waitingPushes: number;
  /** Bytes written to links (frames, resends included). */
  wireBytes: number;
  /** Pushed records' size before compression, and as encoded. */
  rawBytes: number;
  recordBytes: number;
  records: number;
  /** Records sent again after a reconnect. */
  resentRecords: number;
  /** Links lost after the first. */
  reconnects: number;
  /** Pushes that resolved false. */
  refusedPushes: number;
  needsDeltaSync: boolean;
  rttMs?: number;
  bandwidth: { rate: number | undefined } & BucketStats;
}

export type SenderErrorCode = 'Closed' | 'LinkDown' | 'StreamReset' | 'ManifestFailed';

export class SenderError extends Error {
  override readonly name = 'SenderError';
  readonly code: SenderErrorCode;
  constructor(code: SenderErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/**
 * A record's size had its write data not been compressed (a write's header is 19 bytes plus the
 * volume name); for any other record, its encoded size.
 */
export function rawRecordBytes(record: Record, encodedBytes: number): number {
  return record.kind === 'op' && record.op.op === 'write' ? 19 + Buffer.byteLength(record.volume) + record.op.data.length : encodedBytes;
}

/** A record encoded for the buffer. */
interface Pushed {
  parts: RecordParts;
  length: number;
  checkpointTime: number | undefined;
  /** The op's volume (undefined: a checkpoint). */
  volume: string | undefined;
  rawBytes: number;
  /** The capture's, called once nothing reads the write's data any more (RecordSink.push). */
  done: (() => void) | undefined;
  /** The CRC-32 of the last part, a write's data as it is, when the capture gave it. */
  dataCrc: number | undefined;
}

interface WaitingPush extends Pushed {
  since: number;
  resolve: (v: number | false) => void;
}

interface ManifestFetch {
  volume: string;
  chunks: Buffer[];
  bytes: number;
  resolve: (m: Manifest) => void;
  reject: (err: Error) => void;
}

export class Sender {
  private readonly options: SenderOptions;
  private readonly log: Logger;
  private readonly buffer = new RecordBuffer();
  private readonly bucket: TokenBucket;
  private readonly windowBytes: number;
  private readonly batchBytes: number;
  private readonly stallMs: number;
  private readonly compress: boolean;
  /** Per volume: a volume of incompressible data is not sampled at every write. */
  private readonly probes = new Map<string, CompressionProbe>();

  private state: SenderState = 'connecting';
  private closed = false;
  private conn: Connection | undefined;
  private connectedSince: number | undefined;
  private lastError: string | undefined;
  /** The protocol code of the last link's end (Unauthenticated, Replaced, BadSeq …), if it had one. */
  private lastErrorCode: string | undefined;
  /** Undefined until the first WELCOME says where the stream stands. */
  private nextSeq: number | undefined;
  private durableSeq = 0;
  private durableCheckpoint: Checkpoint | undefined;
  private sentSeq = 0;
  private unackedSentBytes = 0;
  /** Highest seq ever written: what is sent again below it counts as resent. */
  private highestSent = 0;
  private needsDelta = false;
  /**
   * Set when the buffer was dropped (the receiver's journal does not continue it, or it reset a
   * volume): the capture's belief is ahead of the replica until it re-syncs, so pushes are refused
   * until deltaSyncDone(). A pass running across the reset must not build on the dropped records.
   */
  private startedOver = false;
  /** The last link ended with VolumeReset: the next WELCOME starts over after the journal. */
  private startOverReason: string | undefined;
  /** Bumped whenever the link or the numbering changes: an in-flight send checks it. */
  private generation = 0;
  private pumping = false;
  private waitingPushes: WaitingPush[] = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private durableWaiters: { seq: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private connectedWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private fetches = new Map<number, ManifestFetch>();
  private nextFetchId = 1;
  private wakeBackoff: (() => void) | undefined;
  /** Rejects when close() is called: a pending connect() is not waited for. */
  private readonly closing: Promise<never>;
  private signalClosed: (err: Error) => void = () => undefined;
  private readonly running: Promise<void>;
  private rttMs: number | undefined;
  private readonly counters = { wireBytes: 0, rawBytes: 0, recordBytes: 0, records: 0, resentRecords: 0, reconnects: 0, refusedPushes: 0 };

  constructor(options: SenderOptions) {
    if (!(options.bufferBytes > 0)) throw new RangeError(`bufferBytes ${options.bufferBytes} is not positive`);
    this.options = options;
    this.log = options.log ?? SILENT;
    this.bucket = new TokenBucket({ rate: options.bandwidthBytesPerSecond });
    this.windowBytes = options.windowBytes ?? Math.min(options.bufferBytes, 32 * 1024 * 1024);
    this.batchBytes = Math.min(options.batchBytes ?? 1024 * 1024, MAX_PAYLOAD_BYTES / 2);
    this.stallMs = options.stallMs ?? 30_000;
    this.compress = options.compress ?? true;
    this.closing = new Promise<never>((_, reject) => (this.signalClosed = reject));
    this.closing.catch(() => undefined);
    this.running = this.run();
  }

  /** closed, read where the compiler would assume it unchanged since the last check. */
  private get stopped(): boolean {
    return this.closed;
  }

  /** True from the first WELCOME until deltaSyncDone(): the capture must compare with the replica. */
  get needsDeltaSync(): boolean {
    return this.needsDelta;
  }

  deltaSyncDone(): void {
    this.needsDelta = false;
    this.startedOver = false;
  }

  /** Changes the bandwidth limit (undefined: none); takes effect on the next frame. */
  setBandwidth(bytesPerSecond: number | undefined): void {
    this.bucket.setRate(bytesPerSecond);
  }

  /**
   * Encodes and queues a record; resolves with its seq once it is in the buffer, or false when the
   * stream takes no more now (no link yet, or a full buffer while the link is down or for stallMs).
   * A write's data is kept as it is, not copied, until the receiver has it durable: the caller
   * must not change it after the push (the capture hands over buffers of its own). `done` is
   * called then, or at once when the record is refused, fails or keeps no view of the data
   * (compressed, or no write). `dataCrc`: the CRC-32 of a write's data, when the capture has it;
   * the frame's CRC is then worked out from it, without reading the data here.
   */
  push(record: Record, done?: () => void, dataCrc?: number): Promise<number | false> {
    if (this.closed || this.startedOver || this.startOverReason !== undefined) {
      done?.();
      return Promise.resolve(this.refused());
    }
    let parts: RecordParts;
    try {
      parts = encodeRecordParts(record, { compress: this.compress, ...(record.kind === 'op' && this.compress && { probe: this.probeOf(record.volume) }) });
    } catch (err: unknown) {
      done?.();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Only a write sent as it is keeps a view of its data: its second part is that data.
    let keep = done;
    if (parts.length < 2) {
      done?.();
      keep = undefined;
    }
    const length = recordLength(parts);
    const checkpointTime = record.kind === 'checkpoint' ? record.checkpoint.time : undefined;
    const volume = record.kind === 'op' ? record.volume : undefined;
    const rawBytes = rawRecordBytes(record, length);
    if (this.nextSeq === undefined || (this.state !== 'connected' && (this.waitingPushes.length > 0 || !this.hasRoom(length)))) {
      keep?.();
      return Promise.resolve(this.refused());
    }
    const pushed: Pushed = { parts, length, checkpointTime, volume, rawBytes, done: keep, dataCrc: parts.length === 2 ? dataCrc : undefined };
    if (this.waitingPushes.length === 0 && this.hasRoom(length)) return Promise.resolve(this.accept(pushed));
    return new Promise((resolve) => {
      this.waitingPushes.push({ ...pushed, since: Date.now(), resolve });
      this.armStallTimer();
    });
  }

  private probeOf(volume: string): CompressionProbe {
    let probe = this.probes.get(volume);
    if (probe === undefined) {
      probe = new CompressionProbe();
      this.probes.set(volume, probe);
    }
    return probe;
  }

  /** Resolves when the receiver has made `seq` durable. */
  waitDurable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (this.closed) return Promise.reject(new SenderError('Closed', 'the sender is closed'));
    return new Promise((resolve, reject) => this.durableWaiters.push({ seq, resolve, reject }));
  }

  /** Resolves when a link is up (WELCOME received). */
  waitConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.closed) return Promise.reject(new SenderError('Closed', 'the sender is closed'));
    return new Promise((resolve, reject) => this.connectedWaiters.push({ resolve, reject }));
  }

  /** The receiver's manifest of a volume (delta sync); fails with LinkDown when there is no link. */
  fetchManifest(volume: string): Promise<Manifest> {
    const conn = this.conn;
    if (this.closed) return Promise.reject(new SenderError('Closed', 'the sender is closed'));
    if (conn === undefined || this.state !== 'connected') return Promise.reject(new SenderError('LinkDown', `no link to fetch the manifest of volume ${JSON.stringify(volume)}`));
    const id = this.nextFetchId++;
    return new Promise((resolve, reject) => {
      this.fetches.set(id, { volume, chunks: [], bytes: 0, resolve, reject });
      conn.send({ type: 'manifestRequest', id, volume });
    });
  }

  status(): SenderStatus {
    return {
      state: this.state,
      ...(this.connectedSince === undefined ? {} : { connectedSince: this.connectedSince }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastErrorCode === undefined ? {} : { lastErrorCode: this.lastErrorCode }),
      nextSeq: this.nextSeq ?? 0,
      durableSeq: this.durableSeq,
      ...(this.durableCheckpoint === undefined ? {} : { durableCheckpoint: { ...this.durableCheckpoint } }),
      sentSeq: this.sentSeq,
      bufferedBytes: this.buffer.bytes,
      bufferedRecords: this.buffer.count,
      bufferLimit: this.options.bufferBytes,
      waitingPushes: this.waitingPushes.length,
      ...this.counters,
      needsDeltaSync: this.needsDelta,
      ...(this.rttMs === undefined ? {} : { rttMs: this.rttMs }),
      bandwidth: { rate: this.bucket.rate, ...this.bucket.stats },
    };
  }

  /** Stops at once: the link is cut, waiting pushes resolve false, waiters reject (Closed). */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.signalClosed(new SenderError('Closed', 'the sender is closed'));
      this.bucket.close();
      this.conn?.destroy(new SenderError('Closed', 'the sender is closed'));
      this.wakeBackoff?.();
      this.failWaitingPushes();
      const err = new SenderError('Closed', 'the sender is closed');
      for (const w of this.durableWaiters.splice(0)) w.reject(err);
      for (const w of this.connectedWaiters.splice(0)) w.reject(err);
      this.failFetches(err);
      // Nothing is sent any more: the records' data goes back to the capture.
      this.buffer.letGo();
    }
    await this.running;
  }

  // ---- pushes and the buffer ----

  private refused(): false {
    this.counters.refusedPushes++;
    return false;
  }

  /** A record larger than the whole buffer still goes in alone, or it never could. */
  private hasRoom(n: number): boolean {
    return this.buffer.bytes + n <= this.options.bufferBytes || this.buffer.count === 0;
  }

  private accept({ parts, length, checkpointTime, volume, rawBytes, done, dataCrc }: Pushed): number {
    const seq = this.buffer.nextSeq;
    this.buffer.append(seq, parts, checkpointTime, done, dataCrc);
    this.nextSeq = seq + 1;
    this.counters.records++;
    this.counters.rawBytes += rawBytes;
    this.counters.recordBytes += length;
    if (volume !== undefined) this.options.onAccepted?.(volume, length, rawBytes);
    this.kick();
    return seq;
  }

  private admitWaiting(): void {
    while (this.waitingPushes.length > 0) {
      const head = this.waitingPushes[0];
      if (head === undefined || !this.hasRoom(head.length)) break;
      this.waitingPushes.shift();
      head.resolve(this.accept(head));
    }
    this.armStallTimer();
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const head = this.waitingPushes[0];
    if (head === undefined) return;
    this.stallTimer = setTimeout(() => {
      this.log.warn({ vpg: this.options.vpg, stallMs: this.stallMs, bufferedBytes: this.buffer.bytes }, 'no room in the send buffer in time: the capture pass stops');
      this.failWaitingPushes();
    }, Math.max(0, head.since + this.stallMs - Date.now()));
  }

  private failWaitingPushes(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    for (const w of this.waitingPushes.splice(0)) {
      w.done?.();
      w.resolve(this.refused());
    }
  }

  // ---- the link ----

  private async run(): Promise<void> {
    let failures = 0;
    let first = true;
    while (!this.closed) {
      this.state = 'connecting';
      if (!first) this.counters.reconnects++;
      first = false;
      let welcomed = false;
      try {
        const socket = await this.connectOnce();
        welcomed = await this.session(socket);
      } catch (err: unknown) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.lastErrorCode = undefined;
      }
      this.onLinkDown();
      if (this.stopped) break;
      // Replaced: another sender of this VPG took over; taking it back at once would make the two flap.
      failures = welcomed && this.lastErrorCode !== 'Replaced' ? 1 : failures + 1;
      const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 200, maxMs: 10_000 };
      const delay = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 20)) * (0.5 + Math.random() / 2);
      this.log.warn({ vpg: this.options.vpg, err: this.lastError, retryInMs: Math.round(delay) }, 'replication link down');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeBackoff = undefined;
    }
  }

  private async connectOnce(): Promise<Duplex> {
    const timeoutMs = this.options.helloTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const attempt = this.options.connect();
    try {
      return await Promise.race([
        attempt,
        this.closing,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`connecting took longer than ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } catch (err: unknown) {
      void attempt.then((late) => late.destroy(), () => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one link until it ends; true when it got as far as WELCOME. */
  private session(socket: Duplex): Promise<boolean> {
    if (this.closed || socket.destroyed) {
      socket.destroy();
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      let welcomed = false;
      let keepalive: NodeJS.Timeout | undefined;
      const conn: Connection = new Connection(socket, {
        message: (m) => {
          if (m.type === 'welcome') {
            if (welcomed) throw new ProtocolError('UnexpectedMessage', 'a second WELCOME');
            welcomed = true;
            clearTimeout(helloTimer);
            keepalive = setInterval(() => {
              this.keepalive(conn);
            }, this.options.keepaliveMs ?? 2000);
            this.onWelcome(m.durableSeq, m.checkpoint);
          } else this.onMessage(conn, welcomed, m);
        },
        closed: (err) => {
          clearTimeout(helloTimer);
          clearInterval(keepalive);
          this.lastError = err?.message ?? 'the receiver closed the link';
          this.lastErrorCode = err instanceof LinkError || err instanceof ProtocolError ? err.code : undefined;
          if (this.lastErrorCode === VOLUME_RESET) this.startOverReason = this.lastError;
          resolve(welcomed);
        },
      });
      this.conn = conn;
      const helloTimeoutMs = this.options.helloTimeoutMs ?? 10_000;
      const helloTimer = setTimeout(() => {
        conn.fail('Timeout', `no WELCOME within ${helloTimeoutMs} ms`);
      }, helloTimeoutMs);
      conn.send({ type: 'hello', vpg: this.options.vpg, token: this.options.token, senderId: this.options.senderId });
      conn.resume();
    });
  }

  private keepalive(conn: Connection): void {
    const deadAfterMs = this.options.deadAfterMs ?? 10_000;
    const silent = Date.now() - conn.lastReceivedAt;
    if (silent > deadAfterMs) {
      conn.destroy(new LinkError('Timeout', `nothing from the receiver for ${silent} ms`));
      return;
    }
    const nonce = Buffer.allocUnsafe(8);
    nonce.writeDoubleBE(performance.now());
    conn.send({ type: 'ping', nonce });
  }

  private onWelcome(durableSeq: number, checkpoint: Checkpoint | undefined): void {
    this.generation++;
    if (this.nextSeq === undefined) {
      this.nextSeq = durableSeq + 1;
      this.buffer.reset(durableSeq + 1);
      this.durableSeq = durableSeq;
      this.durableCheckpoint = checkpoint;
      this.needsDelta = true;
    } else if (durableSeq < this.durableSeq || durableSeq > this.nextSeq - 1 || this.startOverReason !== undefined) {
      // Not the journal this sender was feeding (reset, restored, or written by another sender),
      // or a volume the receiver reset: what is buffered no longer follows it. Start over after
      // its end; the capture resyncs.
      const why = this.startOverReason ?? `the receiver's journal ends at seq ${durableSeq}`;
      this.log.warn({ vpg: this.options.vpg, receiverDurableSeq: durableSeq, durableSeq: this.durableSeq, nextSeq: this.nextSeq, why }, 'the receiver\'s journal does not continue this stream: dropping the buffer, delta sync needed');
      this.startOverReason = undefined;
      this.startedOver = true;
      this.nextSeq = durableSeq + 1;
      this.buffer.reset(durableSeq + 1);
      this.durableSeq = durableSeq;
      this.durableCheckpoint = checkpoint;
      this.needsDelta = true;
      this.highestSent = durableSeq;
      const err = new SenderError('StreamReset', `${why}; records after seq ${durableSeq} were dropped`);
      for (const w of this.durableWaiters.splice(0)) {
        if (w.seq <= durableSeq) w.resolve();
        else w.reject(err);
      }
    } else {
      this.acknowledge(durableSeq);
    }
    this.sentSeq = this.durableSeq;
    this.unackedSentBytes = 0;
    this.state = 'connected';
    this.connectedSince = Date.now();
    this.log.info({ vpg: this.options.vpg, durableSeq, resend: this.buffer.count }, 'replication link up');
    for (const w of this.connectedWaiters.splice(0)) w.resolve();
    this.admitWaiting();
    this.kick();
  }

  private onMessage(conn: Connection, welcomed: boolean, m: Message): void {
    switch (m.type) {
      case 'refuse':
        this.log.warn({ vpg: this.options.vpg, code: m.code, reason: m.message }, 'the receiver refused the stream');
        conn.destroy(new LinkError(m.code, m.message));
        return;
      case 'error':
        conn.destroy(new LinkError(m.code, m.message));
        return;
      case 'ping':
        conn.send({ type: 'pong', nonce: m.nonce });
        return;
      case 'pong':
        this.rttMs = performance.now() - m.nonce.readDoubleBE(0);
        return;
      case 'ack':
        if (!welcomed) throw new ProtocolError('UnexpectedMessage', 'ACK before WELCOME');
        if (m.durableSeq < this.durableSeq || m.durableSeq > this.sentSeq) {
          throw new ProtocolError('BadSeq', `ACK of seq ${m.durableSeq} is outside ${this.durableSeq}..${this.sentSeq} (acknowledged..sent)`);
        }
        this.acknowledge(m.durableSeq);
        return;
      case 'manifest':
        if (!welcomed) throw new ProtocolError('UnexpectedMessage', 'MANIFEST before WELCOME');
        this.onManifestChunk(m.id, m.last, m.chunk, m.error);
        return;
      default:
        throw new ProtocolError('UnexpectedMessage', `a receiver does not send ${m.type.toUpperCase()}`);
    }
  }

  private acknowledge(seq: number): void {
    if (seq <= this.durableSeq) return;
    const { bytes, checkpoint } = this.buffer.dropThrough(seq);
    this.unackedSentBytes = Math.max(0, this.unackedSentBytes - bytes);
    this.durableSeq = seq;
    if (checkpoint !== undefined) this.durableCheckpoint = checkpoint;
    if (this.durableWaiters.length > 0) {
      this.durableWaiters = this.durableWaiters.filter((w) => {
        if (w.seq > seq) return true;
        w.resolve();
        return false;
      });
    }
    this.admitWaiting();
    this.kick();
  }

  private onManifestChunk(id: number, last: boolean, chunk: Buffer, error: string | undefined): void {
    const fetch = this.fetches.get(id);
    if (fetch === undefined) throw new ProtocolError('BadMessage', `MANIFEST for request ${id}, which is not open`);
    if (error !== undefined) {
      this.fetches.delete(id);
      fetch.reject(new SenderError('ManifestFailed', error));
      return;
    }
    fetch.bytes += chunk.length;
    if (fetch.bytes > MAX_MANIFEST_BYTES) throw new ProtocolError('TooLarge', `manifest of volume ${JSON.stringify(fetch.volume)} passes ${MAX_MANIFEST_BYTES} bytes`);
    // The chunk is a view into its frame: keeping it keeps the frame, which holds little else.
    fetch.chunks.push(chunk);
    if (!last) return;
    this.fetches.delete(id);
    try {
      fetch.resolve(decodeManifest(Buffer.concat(fetch.chunks, fetch.bytes)));
    } catch (err: unknown) {
      fetch.reject(new SenderError('ManifestFailed', `manifest of volume ${JSON.stringify(fetch.volume)}: ${(err as Error).message}`));
    }
  }

  private failFetches(err: Error): void {
    const open = [...this.fetches.values()];
    this.fetches.clear();
    for (const f of open) f.reject(err);
  }

  private onLinkDown(): void {
    this.generation++;
    this.conn = undefined;
    this.connectedSince = undefined;
    this.state = 'disconnected';
    this.failWaitingPushes();
    this.failFetches(new SenderError('LinkDown', `the link went down: ${this.lastError ?? 'closed'}`));
  }

  // ---- sending ----

  private kick(): void {
    if (this.pumping || this.state !== 'connected') return;
    this.pumping = true;
    void this.pump()
      .catch((err: unknown) => {
        if (!this.closed) this.conn?.destroy(err as Error);
      })
      .finally(() => {
        this.pumping = false;
        if (this.hasWork()) this.kick();
      });
  }

  private hasWork(): boolean {
    return this.state === 'connected' && this.sentSeq < this.buffer.nextSeq - 1 && this.unackedSentBytes < this.windowBytes;
  }

  /** Writes RECORDS frames while there is something unsent and the window and socket allow. */
  private async pump(): Promise<void> {
    while (this.hasWork()) {
      const conn = this.conn;
      if (conn === undefined) return;
      const generation = this.generation;
      const fromSeq = this.sentSeq + 1;
      const maxBytes = Math.min(this.batchBytes, MAX_PAYLOAD_BYTES - RECORDS_OVERHEAD);
      const { records, crcs, bytes } = this.buffer.slice(fromSeq, maxBytes, Math.floor(maxBytes / (PER_RECORD_OVERHEAD + 1)));
      if (records.length === 0) throw new Error(`send buffer has no record ${fromSeq} (holds up to ${this.buffer.nextSeq - 1})`);
      // A socket reads each record where it is held (until acknowledged, long after the socket
      // wrote it); another stream may hand what it is given to a reader that keeps it: a copy.
      const direct = readsInPlace(conn.socket);
      const frame = direct ? recordsFrameParts(fromSeq, records, crcs) : whole(encodeRecordsFrame(fromSeq, records));
      await this.bucket.take(frame.bytes);
      if (generation !== this.generation || conn.closed) continue;
      const lastSeq = fromSeq + records.length - 1;
      if (fromSeq <= this.highestSent) this.counters.resentRecords += Math.min(records.length, this.highestSent - fromSeq + 1);
      this.highestSent = Math.max(this.highestSent, lastSeq);
      this.sentSeq = lastSeq;
      this.unackedSentBytes += bytes;
      this.counters.wireBytes += frame.bytes;
      if (!conn.sendFrameParts(frame.parts)) await conn.drain();
    }
  }
}

/** A frame given as one piece. */
function whole(frame: Buffer): { parts: Buffer[]; bytes: number } {
  return { parts: [frame], bytes: frame.length };
}
