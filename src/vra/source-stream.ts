// The protected side of one VPG stream: a capture per volume, the checkpointer that passes over
// them, and the sender that ships to the recovery VRA. It also decides which sync each volume and
// the stream are in, which is what the operator shows as the VPG's substatus:
//   connecting     never reached the recovery VRA yet
//   initial-sync   the recovery side has nothing of a volume: its first pass sends it whole
//   delta-sync     the recovery side has data but this side does not know what (a restart, a
//                  reverse, a volume moved): its manifests are fetched, only the difference is sent
//   bitmap-sync    a pass was cut short (link down, buffer full): catching up, the last
//                  checkpoint stays recoverable
//   protecting     the last pass completed and ended in a checkpoint
// The stream is in its least protected volume's state. Volumes are added and removed in place
// (reconfigure): an added one joins on its own (source-volumes.ts) while the others keep their
// checkpoints; the link, the buffer and every other volume's belief stay as they are.
//
// Each volume's change rate (change-rate.ts) counts the records the sender accepts for it while it
// is `covered`: a complete checkpoint pass went over it since it last agreed with the recovery
// side. So an initial sync, a join and a delta sync are not counted (they copy what is, not what
// changed), a bitmap sync's catch-up is (what it sends changed meanwhile), and a push the sender
// refused is not (the next pass reads the change again and counts it then).
import type { Logger } from 'pino';
import { Checkpointer } from '../replicator/capture/checkpointer.ts';
import type { RecordSink } from '../replicator/capture/volume-capture.ts';
import type { Record as StreamRecord } from '../replicator/ops.ts';
import { Sender, SenderError } from '../replicator/ship/sender.ts';
import type { ChangeRate, ChangeRateRecorder } from './change-rate.ts';
import { connectPeer } from './peer.ts';
import { isEmptyManifest, newVolume, phaseOf, streamState, syncProgress, volumeStatus, type SourceVolume, type VolumeSpec, type VolumeStatus } from './source-volumes.ts';
import type { SourceConfig } from './stream-config.ts';
import { StreamError } from './target-stream.ts';
import { isDeepStrictEqual } from 'node:util';

/** The most of the send buffer a joining volume's records take (see #joinPush). */
const JOIN_WINDOW_BYTES = 4 * 1024 * 1024;

export type SyncState = 'connecting' | 'initial-sync' | 'delta-sync' | 'bitmap-sync' | 'protecting';
export type { VolumeStatus } from './source-volumes.ts';

export interface SourceStatus {
  role: 'source';
  state: SyncState;
  connected: boolean;
  lastError?: string;
  /** Seconds since the capture time of the newest checkpoint the recovery side made durable. */
  rpoSeconds?: number;
  durableCheckpoint?: { seq: number; time: string };
  /** Of the volumes that are syncing. */
  progress?: { bytesDone: number; bytesTotal: number; percent: number; etaSeconds?: number };
  /** Each volume's state, in the configuration's order. */
  volumes: VolumeStatus[];
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
  readonly sender: Sender;
  readonly checkpointer: Checkpointer;
  #config: SourceConfig;
  readonly #log: Logger;
  /** The configured volumes, in the configuration's order. */
  #volumes = new Map<string, SourceVolume>();
  /** Removed volumes whose captures may still push: resolve with the last seq pushed, once they cannot. */
  readonly #retiring = new Map<string, Promise<number>>();
  #everAgreed = false;
  #lastPassComplete = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #passes = 0;
  #incomplete = 0;
  #lastError: string | undefined;
  /**
   * Settles once this process and the recovery side agree on what the replica holds (each
   * volume's manifest adopted); replaced by a pending one when that agreement is lost (a reset).
   */
  #agreement = Promise.withResolvers<undefined>();
  #agreed = false;
  readonly #stopping = Promise.withResolvers<undefined>();
  readonly #rates: ChangeRateRecorder;

  constructor(id: string, config: SourceConfig, senderId: string, log: Logger, rates: ChangeRateRecorder) {
    this.id = id;
    this.#config = config;
    this.#log = log;
    this.#rates = rates;
    for (const spec of config.volumes) this.#volumes.set(spec.name, newVolume(spec, config.watch, undefined));
    rates.retain(config.volumes.map((v) => v.name));
    this.sender = new Sender({
      vpg: id,
      token: config.token,
      senderId,
      connect: () => connectPeer(config.peer),
      bufferBytes: config.bufferBytes,
      stallMs: config.stallMs,
      compress: config.compress,
      ...(config.bandwidthBytesPerSecond !== undefined && { bandwidthBytesPerSecond: config.bandwidthBytesPerSecond }),
      onAccepted: (volume, recordBytes, rawBytes) => {
        const v = this.#volumes.get(volume);
        if (v?.phase === 'member' && v.covered) rates.meter.count(volume, rawBytes, recordBytes);
      },
      log,
    });
    this.checkpointer = new Checkpointer({
      captures: [],
      sink: this.sender,
      intervalMs: config.checkpointIntervalMs,
      ...(config.hooks !== undefined && { hooks: config.hooks }),
      log,
    });
  }

  get config(): SourceConfig {
    return this.#config;
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
          this.#everAgreed = true;
          this.#agreement.resolve(undefined);
        }
        await this.#admitWaiting();
        const started = Date.now();
        if (this.checkpointer.volumes().length > 0) {
          const result = await this.checkpointer.runOnce();
          this.#passes++;
          this.#lastPassComplete = result.complete;
          if (result.complete) {
            for (const name of result.volumes) {
              const v = this.#volumes.get(name);
              if (v?.phase === 'member') v.covered = true;
            }
          } else this.#incomplete++;
          this.#measure();
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
   * The sender has no shared state with the recovery side (this process just started, or the
   * recovery side made it start over): each volume's manifest is fetched and becomes its capture's
   * belief, so the next pass sends only what differs (all of it for an empty replica). A volume
   * the recovery side does not have yet waits; the others go on.
   */
  async #agreeOnState(): Promise<void> {
    // Nothing may push while beliefs are replaced (the sender refuses pushes after a reset, so
    // running passes end soon).
    await Promise.all([...[...this.#volumes.values()].map((v) => v.join), ...this.#retiring.values()]);
    await this.checkpointer.settled();
    const { durableSeq } = this.sender.status();
    this.#log.info({ durableSeq, sync: durableSeq === 0 ? 'initial' : 'delta' }, durableSeq === 0 ? 'recovery side is empty: initial sync' : 'recovery side has data: delta sync');
    for (const v of [...this.#volumes.values()]) {
      // The buffer is new: no record of an earlier capture is left to wait for.
      v.drainTo = 0;
      const adopted = await this.#adopt(v);
      // A reconfigure may have removed it meanwhile.
      if (phaseOf(v) !== 'removed') v.phase = adopted ? 'member' : 'waiting';
    }
    this.checkpointer.setCaptures(this.#members());
    this.sender.deltaSyncDone();
  }

  /** Volumes waiting for the recovery side: those it confirms now start their join. */
  async #admitWaiting(): Promise<void> {
    const { durableSeq } = this.sender.status();
    for (const v of [...this.#volumes.values()]) {
      if (v.phase !== 'waiting' || this.#isStopped() || this.sender.needsDeltaSync) continue;
      if (v.drainTo === undefined || durableSeq < v.drainTo) {
        v.problem = 'waiting for the records of its earlier capture to be acknowledged';
        continue;
      }
      if (!(await this.#adopt(v)) || phaseOf(v) !== 'waiting') continue;
      v.phase = 'joining';
      this.#log.info({ stream: this.id, volume: v.spec.name, sync: v.sync }, 'volume joins the stream');
      v.join = this.#join(v).finally(() => {
        delete v.join;
      });
    }
  }

  /**
   * Asks the recovery side for a volume's manifest (for a volume added there, this is what makes
   * it take the volume's records) and adopts it. False, with the reason kept, when it cannot yet.
   */
  async #adopt(v: SourceVolume): Promise<boolean> {
    let manifest;
    try {
      manifest = await this.sender.fetchManifest(v.spec.name);
    } catch (err: unknown) {
      if (!(err instanceof SenderError) || err.code !== 'ManifestFailed') throw err;
      this.#waits(v, `the recovery side cannot take volume ${v.spec.name} yet (configure it there first); retrying: ${err.message}`);
      return false;
    }
    if (manifest.kind !== v.spec.kind) {
      this.#waits(v, `volume ${v.spec.name} is a ${manifest.kind} volume on the recovery side and a ${v.spec.kind} volume here`);
      return false;
    }
    v.capture.adopt(manifest);
    v.sync = isEmptyManifest(manifest) ? 'initial-sync' : 'delta-sync';
    v.covered = false;
    this.#measure();
    delete v.problem;
    return true;
  }

  /** A volume's change rate measures time while its changes are counted (covered), only then. */
  #measure(): void {
    for (const v of this.#volumes.values()) {
      const on = v.phase === 'member' && v.covered;
      if (this.#rates.meter.isMeasuring(v.spec.name) !== on) this.#rates.meter.measure(v.spec.name, on);
    }
  }

  /** Each volume's change rate, with what was counted since the stream started (metrics). */
  changeRates(): ReturnType<ChangeRateRecorder['figures']> {
    return this.#rates.figures();
  }

  /** Keeps why a volume waits; logged when the reason changes, not every pass. */
  #waits(v: SourceVolume, problem: string): void {
    if (v.problem !== problem) this.#log.warn({ stream: this.id, volume: v.spec.name, problem }, 'volume waits for the recovery side');
    v.problem = problem;
  }

  /**
   * A joining volume's passes, beside the checkpoint passes of the others, until one completes:
   * then it is a member and the next checkpoint pass holds it (a pass cut short resumes where the
   * manifest says, as a bitmap sync does).
   */
  async #join(v: SourceVolume): Promise<void> {
    const sink: RecordSink = { push: (r, done, dataCrc) => this.#joinPush(v, r, done, dataCrc) };
    while (phaseOf(v) === 'joining' && !this.#isStopped() && !this.sender.needsDeltaSync) {
      try {
        const progress = { bytesDone: 0, bytesTotal: await v.capture.sizeBytes(), startedAt: Date.now() };
        v.joinProgress = progress;
        const r = await v.capture.pass(sink, (n) => {
          progress.bytesDone = n;
        });
        if (r.complete && phaseOf(v) === 'joining') {
          v.phase = 'member';
          delete v.joinProgress;
          this.checkpointer.setCaptures(this.#members());
          this.#log.info({ stream: this.id, volume: v.spec.name }, 'volume synced: the next checkpoint holds it');
          this.#wake?.();
          return;
        }
        if (!r.complete) await Promise.race([this.sender.waitConnected(), this.#stopping.promise]);
      } catch (err: unknown) {
        if (phaseOf(v) !== 'joining' || this.#isStopped()) return;
        v.problem = `volume ${v.spec.name}: ${(err as Error).message}`;
        this.#log.warn({ err, stream: this.id, volume: v.spec.name }, 'joining pass failed; retrying');
        await this.#pause(Math.min(this.config.checkpointIntervalMs, 5000));
      }
    }
  }

  /**
   * A join shares the one ordered stream with the checkpoint passes of the others: it keeps no
   * more than a window of the buffer, so their records and checkpoints queue behind at most that
   * much of it (their RPO grows by the window's transfer time, not the volume's). False once the
   * volume is removed or the stream stops: its pass ends.
   */
  async #joinPush(v: SourceVolume, record: StreamRecord, done?: () => void, dataCrc?: number): Promise<number | false> {
    const window = Math.min(this.config.bufferBytes / 4, JOIN_WINDOW_BYTES);
    try {
      while (phaseOf(v) === 'joining' && this.sender.status().bufferedBytes > window) await this.sender.waitDurable(this.sender.status().durableSeq + 1);
    } catch {
      done?.();
      return false;
    }
    if (phaseOf(v) === 'joining') return this.sender.push(record, done, dataCrc);
    done?.();
    return false;
  }

  /** A change of volumes only is made in place; anything else restarts the stream. */
  canReconfigure(next: SourceConfig): boolean {
    return isDeepStrictEqual({ ...this.#config, volumes: [] }, { ...next, volumes: [] });
  }

  /**
   * Adds, removes and moves volumes while the stream runs. A removed volume is no longer captured
   * (a pass that already started finishes with it); an added one waits for the recovery side to
   * confirm it, then joins; a volume given another path is removed and added again (a delta sync
   * of it alone). The others keep their captures, beliefs and checkpoints.
   */
  reconfigure(next: SourceConfig): Promise<void> {
    if (!this.canReconfigure(next)) return Promise.reject(new Error(`stream ${this.id}: only its volumes change in place`));
    const wanted = new Map<string, VolumeSpec>(next.volumes.map((s) => [s.name, s]));
    for (const v of [...this.#volumes.values()]) {
      if (!isDeepStrictEqual(wanted.get(v.spec.name), v.spec)) this.#retire(v);
    }
    const volumes = new Map<string, SourceVolume>();
    for (const spec of next.volumes) volumes.set(spec.name, this.#volumes.get(spec.name) ?? newVolume(spec, next.watch, this.#retiring.get(spec.name)));
    this.#volumes = volumes;
    this.#config = next;
    // A removed volume's measurement goes; one moved to another path keeps its own (same name).
    this.#rates.retain(next.volumes.map((s) => s.name));
    this.#measure();
    this.checkpointer.setCaptures(this.#members());
    this.#log.info({ stream: this.id, volumes: next.volumes.map((s) => s.name) }, 'volumes changed');
    this.#wake?.();
    return Promise.resolve();
  }

  #retire(v: SourceVolume): void {
    const name = v.spec.name;
    v.phase = 'removed';
    this.#volumes.delete(name);
    this.checkpointer.setCaptures(this.#members());
    const earlier = this.#retiring.get(name);
    const done = (async () => {
      await earlier;
      await v.join;
      await this.checkpointer.settled();
      v.capture.close();
      return Math.max(0, this.sender.status().nextSeq - 1);
    })();
    this.#retiring.set(name, done);
    void done.then(() => {
      if (this.#retiring.get(name) === done) this.#retiring.delete(name);
    });
  }

  #members(): SourceVolume['capture'][] {
    return [...this.#volumes.values()].filter((v) => v.phase === 'member').map((v) => v.capture);
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

  #pause(ms: number): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), this.#stopping.promise.then(() => undefined)]);
  }

  /**
   * A checkpoint with this tag, now; resolves once the recovery side has it durably. It holds the
   * volumes that finished their first sync (a joining volume is not in it yet).
   */
  async tag(tag: string): Promise<number> {
    await this.#untilAgreed();
    if (this.checkpointer.volumes().length === 0) {
      const why = [...this.#volumes.values()].map((v) => `${v.spec.name}: ${v.problem ?? v.phase}`).join('; ');
      throw new StreamError('Conflict', `stream ${this.id} has no volume in sync to checkpoint yet (${why})`);
    }
    const seq = await this.checkpointer.requestTag(tag);
    await this.sender.waitDurable(seq);
    return seq;
  }

  status(now = Date.now()): SourceStatus {
    const s = this.sender.status();
    const p = this.checkpointer.progress();
    // Once protected, a link that is down means changes gather as dirty regions (change hints and
    // the manifest difference) for the catch-up pass: the bitmap sync has begun.
    const settled = s.state === 'connected' && this.#lastPassComplete;
    const passProgress = new Map(p.volumes.map((v) => [v.volume, v]));
    // The recovery side made the sender start over: every belief is to be fetched again.
    const lost = this.#everAgreed && s.needsDeltaSync;
    const rate = (v: SourceVolume): ChangeRate | undefined => this.#rates.meter.rate(v.spec.name);
    const volumes = [...this.#volumes.values()].map((v) => (lost ? { ...volumeStatus(v, false, passProgress, rate(v)), state: 'delta-sync' as const } : volumeStatus(v, settled, passProgress, rate(v))));
    const state: SyncState = this.#everAgreed ? streamState(volumes) : 'connecting';
    const problems = volumes.filter((v) => v.problem !== undefined).map((v) => v.problem);
    const lastError = this.#lastError ?? s.lastError ?? (problems.length > 0 ? problems.join('; ') : undefined);
    return {
      role: 'source',
      state,
      connected: s.state === 'connected',
      ...(lastError !== undefined && { lastError }),
      ...(s.durableCheckpoint !== undefined && {
        rpoSeconds: Math.max(0, (now - s.durableCheckpoint.time) / 1000),
        durableCheckpoint: { seq: s.durableCheckpoint.seq, time: new Date(s.durableCheckpoint.time).toISOString() },
      }),
      ...(state !== 'protecting' && state !== 'connecting' && { progress: syncProgress([...this.#volumes.values()], volumes, passProgress, p.etaSeconds, now) }),
      volumes,
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
    const volumes = [...this.#volumes.values()];
    await Promise.all([...volumes.map((v) => v.join), ...this.#retiring.values()]);
    for (const v of volumes) v.capture.close();
    await this.#rates.close();
  }
}
