// The recovery side of replication: a TLS server that authenticates each stream's sender, appends
// what it sends to the stream's journal in seq order and acknowledges only what the journal made
// durable. Protocol: ../wire/README.md.
import { createServer, type TLSSocket } from 'node:tls';
import { CodecError, checkRecord } from '../codec.ts';
import { opProblemFor, type Record as StreamRecord, type VolumeKind } from '../ops.ts';
import type { Manifest } from '../manifest.ts';
import { ProtocolError, REPLICATION_ALPN } from '../wire/frame.ts';
import { encodeManifest, manifestChunks } from '../wire/manifest-codec.ts';
import { INVALID_CREDENTIALS, MESSAGE_TYPES, VOLUME_RESET, type Message, type RefuseCode } from '../wire/messages.ts';
import { Connection, LinkError } from './connection.ts';
import { PayloadRing } from './payload-ring.ts';
import type { JournalSink } from './journal-sink.ts';
import { secretsEqual } from '../../auth/secrets.ts';
import { SILENT, type Logger } from '../log.ts';

/** What the receiver knows of a stream (a VPG): its secret, its journal and its replica's manifests. */
export interface ReceiverStream {
  token: string;
  journal: JournalSink;
  manifest(volume: string): Promise<Manifest>;
  /** The stream's volumes and their kinds: records for any other, or that do not fit the kind, are refused. Undefined: not checked. */
  volumes?: ReadonlyMap<string, VolumeKind>;
  /**
   * Read for every record instead of `volumes` when given, so a stream's volumes can change while
   * a link is up: how this volume's records are taken. `apply`: journaled; `ignore`: journaled and
   * never applied (a volume removed here that the source still captures, until it is told);
   * `reset`: refused with ERROR VolumeReset, the link ends (the volume was added here after the
   * source last synced it, so what the source sends builds on data this side does not have; the
   * source must start over after the journal). Undefined: not a volume of this stream.
   */
  volume?: (name: string) => { kind: VolumeKind; take: 'apply' | 'ignore' | 'reset' } | undefined;
}

export { VOLUME_RESET };

/**
 * Thrown by `ReceiverStream.manifest` when the volume cannot be synced yet but will be (it is being
 * seeded from a local copy): the sender is told why and asks again later. Not logged as a failure.
 */
export class ManifestNotReady extends Error {
  override readonly name = 'ManifestNotReady';
}

class VolumeReset extends Error {}

export interface ReceiverOptions {
  host?: string;
  port: number;
  tls: { key: string | Buffer; cert: string | Buffer };
  lookup: (vpg: string) => ReceiverStream | undefined;
  /** TLS handshake and HELLO must complete within this; default 10 s. */
  helloTimeoutMs?: number;
  /** A PING goes to the sender this often; default 2 s. */
  keepaliveMs?: number;
  /** Nothing received for this long (while reading) ends the link; default 30 s. */
  idleTimeoutMs?: number;
  /** Record bytes handed to the journal and not yet durable before reading pauses; default 64 MiB. */
  maxPendingBytes?: number;
  /**
   * Memory per connection that RECORDS frames are put together in and held until durable
   * (payload-ring.ts), taken at the first frame and let go after a minute without one; default
   * 32 MiB. Frames that find it full get memory of their own.
   */
  payloadRingBytes?: number;
  /** How long a replacing connection waits for the old one's appends to settle; default 10 s. */
  replaceTimeoutMs?: number;
  /** At most this many manifest requests at once per connection; default 4. */
  maxManifestRequests?: number;
  log?: Logger;
}

export type SessionState = 'hello' | 'waiting' | 'streaming' | 'closed';

export interface ConnectionInfo {
  remote: string;
  state: SessionState;
  vpg?: string;
  senderId?: string;
  /** Date.now() when the connection was accepted. */
  since: number;
  /** The last seq acknowledged on this connection. */
  ackedSeq: number;
  records: number;
  bytesIn: number;
  bytesOut: number;
  /** Record bytes handed to the journal, not yet durable. */
  pendingBytes: number;
}

export interface Receiver {
  readonly port: number;
  connections(): ConnectionInfo[];
  /** Stops listening, ends every link (ERROR ShuttingDown) and waits for in-flight appends. */
  close(): Promise<void>;
}

interface Settings {
  helloTimeoutMs: number;
  keepaliveMs: number;
  idleTimeoutMs: number;
  maxPendingBytes: number;
  payloadRingBytes: number;
  replaceTimeoutMs: number;
  maxManifestRequests: number;
  log: Logger;
  lookup: ReceiverOptions['lookup'];
}

interface Hub {
  settings: Settings;
  closing: boolean;
  /** The connection that owns each VPG's journal now. */
  owners: Map<string, Session>;
  sessions: Set<Session>;
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const settings: Settings = {
    helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    keepaliveMs: options.keepaliveMs ?? 2000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    payloadRingBytes: options.payloadRingBytes ?? 32 * 1024 * 1024,
    replaceTimeoutMs: options.replaceTimeoutMs ?? 10_000,
    maxManifestRequests: options.maxManifestRequests ?? 4,
    log: options.log ?? SILENT,
    lookup: options.lookup,
  };
  const hub: Hub = { settings, closing: false, owners: new Map(), sessions: new Set() };
  const server = createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.3', ALPNProtocols: [REPLICATION_ALPN], handshakeTimeout: settings.helloTimeoutMs }, (socket) => {
    if (hub.closing) {
      socket.destroy();
      return;
    }
    hub.sessions.add(new Session(hub, socket));
  });
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    settings.log.warn({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err: err.message }, 'replication TLS handshake failed');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  settings.log.info({ port }, 'replication receiver listening');
  return {
    port,
    connections: () => [...hub.sessions].map((s) => s.info()),
    close: async () => {
      hub.closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const sessions = [...hub.sessions];
      for (const s of sessions) s.shutdown();
      await Promise.all(sessions.map((s) => s.settled()));
      await closed;
    },
  };
}

interface InFlight {
  lastSeq: number;
  bytes: number;
  done: boolean;
}

/** An idle connection lets go of its payload ring after this long without RECORDS. */
const RING_IDLE_MS = 60_000;

class Session {
  private readonly hub: Hub;
  private readonly conn: Connection;
  private readonly remote: string;
  private readonly since = Date.now();
  private state: SessionState = 'hello';
  private vpg: string | undefined;
  private senderId: string | undefined;
  private stream: ReceiverStream | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private expectedSeq = 0;
  private ackedSeq = 0;
  private records = 0;
  private readonly inFlight: InFlight[] = [];
  private readonly appends = new Set<Promise<void>>();
  private pendingBytes = 0;
  private paused = false;
  private manifestRequests = 0;
  /** Settles when the connection this one replaced has no append in flight any more. */
  private predecessor: Promise<void> = Promise.resolve();
  /** Where RECORDS frames are put together and held until durable. */
  private readonly payloads: PayloadRing;
  private lastRecordsAt = Date.now();

  constructor(hub: Hub, socket: TLSSocket) {
    this.hub = hub;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.payloads = new PayloadRing(hub.settings.payloadRingBytes);
    this.conn = new Connection(
      socket,
      {
        message: (m, lease) => {
          this.onMessage(m, lease);
        },
        closed: (err) => {
          this.onClosed(err);
        },
      },
      (type, length) => (type === MESSAGE_TYPES.records ? this.payloads.take(length) : undefined),
    );
    this.helloTimer = setTimeout(() => {
      this.conn.fail('Timeout', `no HELLO within ${hub.settings.helloTimeoutMs} ms`);
    }, hub.settings.helloTimeoutMs);
  }

  info(): ConnectionInfo {
    return {
      remote: this.remote,
      state: this.state,
      ...(this.vpg === undefined ? {} : { vpg: this.vpg }),
      ...(this.senderId === undefined ? {} : { senderId: this.senderId }),
      since: this.since,
      ackedSeq: this.ackedSeq,
      records: this.records,
      bytesIn: this.conn.bytesIn,
      bytesOut: this.conn.bytesOut,
      pendingBytes: this.pendingBytes,
    };
  }

  /** Resolves once no append of this connection (or of the ones it replaced) is in flight. */
  async settled(): Promise<void> {
    await this.predecessor;
    while (this.appends.size > 0) await Promise.all([...this.appends]);
  }

  shutdown(): void {
    this.conn.fail('ShuttingDown', 'the receiver is stopping');
  }

  /** Another connection authenticated for the same VPG. */
  replace(): void {
    this.conn.fail('Replaced', 'another connection of the same stream replaced this one');
  }

  private get log(): Logger {
    return this.hub.settings.log;
  }

  private onMessage(m: Message, lease?: { release(): void }): void {
    if (m.type === 'records') {
      this.lastRecordsAt = Date.now();
      if (this.state !== 'streaming') {
        lease?.release();
        throw new ProtocolError('UnexpectedMessage', `RECORDS before WELCOME (connection is in state ${this.state})`);
      }
      this.onRecords(m.firstSeq, m.records, m.crcs, lease);
      return;
    }
    lease?.release();
    switch (m.type) {
      case 'hello':
        if (this.state !== 'hello') throw new ProtocolError('UnexpectedMessage', 'HELLO after the stream was opened');
        this.onHello(m.vpg, m.token, m.senderId);
        return;
      case 'manifestRequest':
        if (this.state !== 'streaming') throw new ProtocolError('UnexpectedMessage', `MANIFEST_REQUEST before WELCOME (connection is in state ${this.state})`);
        if (this.manifestRequests >= this.hub.settings.maxManifestRequests) {
          throw new ProtocolError('BadMessage', `more than ${this.hub.settings.maxManifestRequests} manifest requests at once`);
        }
        this.manifestRequests++;
        void this.sendManifest(m.id, m.volume).finally(() => this.manifestRequests--);
        return;
      case 'ping':
        this.conn.send({ type: 'pong', nonce: m.nonce });
        return;
      case 'pong':
        return;
      case 'error':
        this.log.warn({ remote: this.remote, vpg: this.vpg, code: m.code, reason: m.message }, 'sender ended the replication link with an error');
        this.conn.destroy(new LinkError(m.code, m.message));
        return;
      default:
        throw new ProtocolError('UnexpectedMessage', `a sender does not send ${m.type.toUpperCase()}`);
    }
  }

  private refuse(code: RefuseCode, message: string, reason: string): void {
    this.log.warn({ remote: this.remote, vpg: this.vpg, senderId: this.senderId, code, reason }, 'replication stream refused');
    this.conn.closeWith({ type: 'refuse', code, message }, new LinkError(code, message));
  }

  private onHello(vpg: string, token: string, senderId: string): void {
    clearTimeout(this.helloTimer);
    this.vpg = vpg;
    this.senderId = senderId;
    if (this.hub.closing) {
      this.refuse('ShuttingDown', 'the receiver is stopping', 'stopping');
      return;
    }
    let stream: ReceiverStream | undefined;
    try {
      stream = this.hub.settings.lookup(vpg);
    } catch (err: unknown) {
      this.log.error({ remote: this.remote, vpg, err: err instanceof Error ? err.message : String(err) }, 'stream lookup failed');
      this.conn.fail('Internal', 'the receiver could not look up the stream');
      return;
    }
    if (stream === undefined) {
      secretsEqual(token, token); // the same work as a known stream
      this.refuse('UnknownStream', `no stream ${JSON.stringify(vpg)} on this receiver`, 'unknown vpg');
      return;
    }
    if (!secretsEqual(token, stream.token)) {
      this.refuse('Unauthenticated', INVALID_CREDENTIALS, 'wrong token');
      return;
    }
    this.stream = stream;
    this.state = 'waiting';
    const previous = this.hub.owners.get(vpg);
    this.hub.owners.set(vpg, this);
    if (previous !== undefined) {
      this.log.info({ remote: this.remote, vpg, senderId }, 'a new connection replaces the stream\'s current one');
      previous.replace();
      this.predecessor = previous.settled();
    }
    void this.welcome(stream, previous !== undefined);
  }

  private async welcome(stream: ReceiverStream, replacing: boolean): Promise<void> {
    if (replacing) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.predecessor.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.hub.settings.replaceTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (this.conn.closed) return;
      if (timedOut) {
        this.refuse('Busy', 'the previous connection of this stream is still writing its journal; retry', 'previous appends still in flight');
        return;
      }
    }
    if (this.conn.closed) return;
    const durableSeq = stream.journal.durableSeq;
    const checkpoint = stream.journal.lastCheckpoint();
    this.expectedSeq = durableSeq + 1;
    this.ackedSeq = durableSeq;
    this.state = 'streaming';
    this.conn.send({ type: 'welcome', durableSeq, ...(checkpoint === undefined ? {} : { checkpoint }) });
    this.log.info({ remote: this.remote, vpg: this.vpg, senderId: this.senderId, durableSeq }, 'replication stream open');
    this.keepaliveTimer = setInterval(() => {
      this.keepalive();
    }, this.hub.settings.keepaliveMs);
  }

  private keepalive(): void {
    if (Date.now() - this.lastRecordsAt > RING_IDLE_MS) this.payloads.trim();
    const idle = Date.now() - this.conn.lastReceivedAt;
    if (!this.paused && idle > this.hub.settings.idleTimeoutMs) {
      this.conn.fail('Timeout', `nothing received for ${idle} ms`);
      return;
    }
    const nonce = Buffer.allocUnsafe(8);
    nonce.writeDoubleBE(Date.now());
    this.conn.send({ type: 'ping', nonce });
  }

  /**
   * `crcs`: each record's CRC-32, worked out as the frame was checked (the journal stores them
   * as they are). `lease`: the memory the records are views of, let go once the journal is done
   * with them (or at once when they are refused).
   */
  private onRecords(firstSeq: number, records: readonly Buffer[], crcs: Uint32Array | undefined, lease?: { release(): void }): void {
    let kept = false;
    try {
      kept = this.appendRecords(firstSeq, records, crcs, lease);
    } finally {
      if (!kept) lease?.release();
    }
  }

  /** True when the append took `lease` (it lets it go when it settles). */
  private appendRecords(firstSeq: number, records: readonly Buffer[], crcs: Uint32Array | undefined, lease: { release(): void } | undefined): boolean {
    const journal = this.stream?.journal;
    if (journal === undefined) throw new ProtocolError('UnexpectedMessage', 'RECORDS without a stream');
    if (firstSeq !== this.expectedSeq) throw new ProtocolError('BadSeq', `RECORDS start at seq ${firstSeq}; the next seq of this stream is ${this.expectedSeq}`);
    let bytes = 0;
    let batch: { seq: number; bytes: Buffer; crc?: number }[];
    try {
      batch = records.map((b, i) => {
        try {
          // Checked in full before it can become durable: a record that would fail at apply or
          // recovery time (a path outside the volume, a bad length) must never be acknowledged.
          this.checkVolumes(checkRecord(b));
        } catch (err: unknown) {
          if (err instanceof CodecError) throw new ProtocolError('BadMessage', `record seq ${firstSeq + i}: ${err.message}`);
          if (err instanceof VolumeReset) throw new VolumeReset(`record seq ${firstSeq + i}: ${err.message}`);
          throw err;
        }
        bytes += b.length;
        const crc = crcs?.[i];
        return crc === undefined ? { seq: firstSeq + i, bytes: b } : { seq: firstSeq + i, bytes: b, crc };
      });
    } catch (err: unknown) {
      if (!(err instanceof VolumeReset)) throw err;
      this.log.warn({ remote: this.remote, vpg: this.vpg, err: err.message }, 'records for a volume the source has not synced since it was added here: the source must start over');
      this.conn.fail(VOLUME_RESET, err.message);
      return false;
    }
    const lastSeq = firstSeq + records.length - 1;
    this.expectedSeq = lastSeq + 1;
    this.records += records.length;
    const entry: InFlight = { lastSeq, bytes, done: false };
    this.inFlight.push(entry);
    this.pendingBytes += bytes;
    if (this.pendingBytes > this.hub.settings.maxPendingBytes && !this.paused) {
      this.paused = true;
      this.conn.pause();
    }
    let append: Promise<void>;
    try {
      append = journal.append(batch);
    } catch (err: unknown) {
      append = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const tracked = append.then(
      () => {
        lease?.release();
        entry.done = true;
        this.pendingBytes -= bytes;
        this.flushAcks();
      },
      (err: unknown) => {
        lease?.release();
        this.pendingBytes -= bytes;
        const message = err instanceof Error ? err.message : String(err);
        this.log.error({ remote: this.remote, vpg: this.vpg, firstSeq, lastSeq, err: message }, 'journal append failed');
        this.conn.fail('JournalFailed', `the journal could not append seqs ${firstSeq}..${lastSeq}`);
      },
    );
    this.appends.add(tracked);
    void tracked.finally(() => this.appends.delete(tracked));
    return true;
  }

  /** Refuses an op that is not for a volume of the stream (or not of its kind), and a record built on a reset volume. */
  private checkVolumes(record: StreamRecord): void {
    const stream = this.stream;
    if (stream === undefined) return;
    const lookup = stream.volume ?? (stream.volumes === undefined ? undefined : (name: string) => {
      const kind = stream.volumes?.get(name);
      return kind === undefined ? undefined : { kind, take: 'apply' as const };
    });
    if (lookup === undefined) return;
    const reset = (volume: string): VolumeReset => new VolumeReset(`volume ${volume} was added to this stream on the recovery side after the source last synced it: the source must sync it from the start`);
    if (record.kind === 'checkpoint') {
      for (const v of record.checkpoint.volumes) if (lookup(v.volume)?.take === 'reset') throw reset(v.volume);
      return;
    }
    const v = lookup(record.volume);
    if (v === undefined) throw new CodecError(`volume ${record.volume} is not a volume of this stream`);
    const problem = opProblemFor(v.kind, record.op);
    if (problem !== undefined) throw new CodecError(`volume ${record.volume}: ${problem}`);
    if (v.take === 'reset') throw reset(record.volume);
  }

  /** ACKs the longest prefix of appends that are durable: never past one still in flight. */
  private flushAcks(): void {
    let acked: number | undefined;
    while (this.inFlight[0]?.done === true) acked = this.inFlight.shift()?.lastSeq;
    if (acked === undefined || this.conn.closed) return;
    this.ackedSeq = acked;
    this.conn.send({ type: 'ack', durableSeq: acked });
    if (this.paused && this.pendingBytes <= this.hub.settings.maxPendingBytes / 2) {
      this.paused = false;
      this.conn.lastReceivedAt = Date.now();
      this.conn.resume();
    }
  }

  private async sendManifest(id: number, volume: string): Promise<void> {
    const stream = this.stream;
    if (stream === undefined) return;
    let encoded: Buffer;
    try {
      encoded = encodeManifest(await stream.manifest(volume));
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof ManifestNotReady)) this.log.warn({ remote: this.remote, vpg: this.vpg, volume, err: message }, 'manifest request failed');
      this.conn.send({ type: 'manifest', id, last: true, chunk: Buffer.alloc(0), error: `manifest of volume ${JSON.stringify(volume)}: ${message}`.slice(0, 4000) });
      return;
    }
    const chunks = manifestChunks(encoded);
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] ?? Buffer.alloc(0);
      if (!this.conn.send({ type: 'manifest', id, last: i === chunks.length - 1, chunk })) await this.conn.drain();
      if (this.conn.closed) return;
    }
  }

  private onClosed(err: Error | undefined): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.keepaliveTimer);
    const wasState = this.state;
    this.state = 'closed';
    if (this.vpg !== undefined && this.hub.owners.get(this.vpg) === this) this.hub.owners.delete(this.vpg);
    void this.settled().finally(() => this.hub.sessions.delete(this));
    const fields = { remote: this.remote, vpg: this.vpg, senderId: this.senderId, state: wasState, records: this.records, bytesIn: this.conn.bytesIn, ackedSeq: this.ackedSeq };
    if (err instanceof ProtocolError || (err instanceof LinkError && err.code !== 'Replaced' && err.code !== 'ShuttingDown')) {
      this.log.warn({ ...fields, code: err.code, err: err.message }, 'replication link ended with an error');
    } else this.log.info({ ...fields, reason: err?.message ?? 'peer closed' }, 'replication link closed');
  }
}
