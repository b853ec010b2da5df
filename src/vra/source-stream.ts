// The protected side of one VPG stream: a capture per volume, the checkpointer that passes over
// all of them, and the sender that ships to the recovery VRA. It also decides which sync the
// stream is in, which is what the operator shows as the VPG's substatus:
//   connecting     never reached the recovery VRA yet
//   initial-sync   the recovery side is empty: the first pass sends every volume whole
//   delta-sync     the recovery side has data but this side does not know what (a restart, a
//                  reverse): its manifests are fetched and only the difference is sent
//   bitmap-sync    a pass was cut short (link down, buffer full): catching up, the last
//                  checkpoint stays recoverable
//   protecting     the last pass completed and ended in a checkpoint
import type { Logger } from 'pino';
import { BlockCapture } from '../replicator/capture/block-capture.ts';
import { Checkpointer } from '../replicator/capture/checkpointer.ts';
import { FsCapture } from '../replicator/capture/fs-capture.ts';
import type { VolumeCapture } from '../replicator/capture/volume-capture.ts';
import { Sender } from '../replicator/ship/sender.ts';
import { connectPeer } from './peer.ts';
import type { SourceConfig } from './stream-config.ts';

export type SyncState = 'connecting' | 'initial-sync' | 'delta-sync' | 'bitmap-sync' | 'protecting';

export interface SourceStatus {
  role: 'source';
  state: SyncState;
  connected: boolean;
  lastError?: string;
  /** Seconds since the capture time of the newest checkpoint the recovery side made durable. */
  rpoSeconds?: number;
  durableCheckpoint?: { seq: number; time: string };
  progress?: { bytesDone: number; bytesTotal: number; percent: number; etaSeconds?: number };
  bufferedBytes: number;
  bufferLimitBytes: number;
  wireBytes: number;
  rawBytes: number;
  records: number;
  reconnects: number;
  passes: number;
  incompletePasses: number;
  hookFailures: number;
}

export class SourceStream {
  readonly id: string;
  readonly config: SourceConfig;
  readonly sender: Sender;
  readonly checkpointer: Checkpointer;
  readonly captures: readonly VolumeCapture[];
  readonly #log: Logger;
  #state: SyncState = 'connecting';
  #syncing: 'initial-sync' | 'delta-sync' | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #passes = 0;
  #incomplete = 0;
  #lastError: string | undefined;
  /**
   * Settles once this process and the recovery side agree on what the replica holds (initial or
   * delta sync decided); replaced by a pending one when that agreement is lost (a stream reset).
   */
  #agreement = Promise.withResolvers<undefined>();
  #agreed = false;
  readonly #stopping = Promise.withResolvers<undefined>();

  constructor(id: string, config: SourceConfig, senderId: string, log: Logger) {
    this.id = id;
    this.config = config;
    this.#log = log;
    this.captures = config.volumes.map((v) => (v.kind === 'fs'
      ? new FsCapture({ volume: v.name, root: v.path, watch: config.watch })
      : new BlockCapture({ volume: v.name, path: v.path })));
    this.sender = new Sender({
      vpg: id,
      token: config.token,
      senderId,
      connect: () => connectPeer(config.peer),
      bufferBytes: config.bufferBytes,
      stallMs: config.stallMs,
      compress: config.compress,
      ...(config.bandwidthBytesPerSecond !== undefined && { bandwidthBytesPerSecond: config.bandwidthBytesPerSecond }),
      log,
    });
    this.checkpointer = new Checkpointer({
      captures: [...this.captures],
      sink: this.sender,
      intervalMs: config.checkpointIntervalMs,
      ...(config.hooks !== undefined && { hooks: config.hooks }),
      log,
    });
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.sender.waitConnected();
        if (this.#isStopped()) break;
        if (this.sender.needsDeltaSync) {
          this.#loseAgreement();
          await this.#agreeOnState();
        }
        if (!this.#agreed) {
          this.#agreed = true;
          this.#agreement.resolve(undefined);
        }
        const started = Date.now();
        const result = await this.checkpointer.runOnce();
        this.#passes++;
        if (result.complete) {
          this.#syncing = undefined;
          this.#state = 'protecting';
        } else {
          this.#incomplete++;
          this.#state = this.#syncing ?? 'bitmap-sync';
        }
        this.#lastError = undefined;
        await this.#sleep(Math.max(0, this.config.checkpointIntervalMs - (Date.now() - started)));
      } catch (err: unknown) {
        if (this.#isStopped()) break;
        this.#lastError = (err as Error).message;
        this.#log.warn({ err, stream: this.id }, 'replication pass failed; retrying');
        await this.#sleep(Math.min(this.config.checkpointIntervalMs, 5000));
      }
    }
  }

  /**
   * The sender has no shared state with the recovery side yet (this process just started). An
   * empty recovery side gets an initial sync; one with data gets a delta sync: its manifests become
   * the captures' belief, so the next pass sends only what differs.
   */
  async #agreeOnState(): Promise<void> {
    const { durableSeq } = this.sender.status();
    this.#log.info({ durableSeq, sync: durableSeq === 0 ? 'initial' : 'delta' }, durableSeq === 0 ? 'recovery side is empty: initial sync' : 'recovery side has data: delta sync');
    if (durableSeq === 0) {
      this.#syncing = 'initial-sync';
    } else {
      this.#syncing = 'delta-sync';
      this.#state = 'delta-sync';
      for (const capture of this.captures) capture.adopt(await this.sender.fetchManifest(capture.volume));
    }
    this.#state = this.#syncing;
    this.sender.deltaSyncDone();
  }

  /** Read through a call: stop() flips it while #run awaits, which flow analysis cannot see. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #loseAgreement(): void {
    if (!this.#agreed) return;
    this.#agreed = false;
    this.#agreement = Promise.withResolvers<undefined>();
  }

  /**
   * No pass may run before the capture knows what the recovery side holds: a pass against the
   * wrong belief would resend whole volumes (or, worse, assume what is not there). The loop may
   * be asleep between passes with agreement still to reach: wake it.
   */
  async #untilAgreed(): Promise<void> {
    for (;;) {
      if (this.sender.needsDeltaSync) this.#loseAgreement();
      if (this.#agreed) return;
      if (this.#isStopped()) throw new Error(`stream ${this.id} is stopping`);
      this.#wake?.();
      await Promise.race([this.#agreement.promise, this.#stopping.promise]);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** A checkpoint with this tag, now; resolves once the recovery side has it durably. */
  async tag(tag: string): Promise<number> {
    await this.#untilAgreed();
    const seq = await this.checkpointer.requestTag(tag);
    await this.sender.waitDurable(seq);
    return seq;
  }

  status(now = Date.now()): SourceStatus {
    const s = this.sender.status();
    const p = this.checkpointer.progress();
    // Once protected, a link that is down means changes gather as dirty regions (change hints and
    // the manifest difference) for the catch-up pass: the bitmap sync has begun.
    const state: SyncState = this.#state === 'protecting' && s.state !== 'connected' ? 'bitmap-sync' : this.#state;
    const syncing = state === 'initial-sync' || state === 'delta-sync' || state === 'bitmap-sync';
    return {
      role: 'source',
      state,
      connected: s.state === 'connected',
      ...((this.#lastError ?? s.lastError) !== undefined && { lastError: this.#lastError ?? s.lastError }),
      ...(s.durableCheckpoint !== undefined && {
        rpoSeconds: Math.max(0, (now - s.durableCheckpoint.time) / 1000),
        durableCheckpoint: { seq: s.durableCheckpoint.seq, time: new Date(s.durableCheckpoint.time).toISOString() },
      }),
      ...(syncing && {
        progress: {
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          percent: p.bytesTotal === 0 ? 100 : Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 1000) / 10),
          ...(p.etaSeconds !== undefined && { etaSeconds: p.etaSeconds }),
        },
      }),
      bufferedBytes: s.bufferedBytes,
      bufferLimitBytes: s.bufferLimit,
      wireBytes: s.wireBytes,
      rawBytes: s.rawBytes,
      records: s.records,
      reconnects: s.reconnects,
      passes: this.#passes,
      incompletePasses: this.#incomplete,
      hookFailures: p.hookFailures,
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.resolve(undefined);
    this.#wake?.();
    await this.sender.close();
    await this.#loop;
    for (const c of this.captures) c.close();
  }
}
