// The recovery side of one VPG stream: its journal, its replica, the retention loop that ages
// records out of the journal into the replica, and what the control API asks of them (checkpoints,
// tags, materialise, verify). The receiver (shared by all streams of the VRA) looks streams up here.
// Volumes are added and removed in place (reconfigure): the replica keeps which records belong to
// which volume's life (replica-state.ts), so a link stays up and nothing else is touched. A volume
// created with a seed is filled from a local copy first (replica/seed.ts); the source's manifest
// request for it is refused until that is done.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { Journal, type CheckpointInfo } from '../replicator/journal/journal.ts';
import { headManifest } from '../replicator/replica/head-manifest.ts';
import { materialise } from '../replicator/replica/materialise.ts';
import { Replica } from '../replicator/replica/replica.ts';
import { runRetention } from '../replicator/replica/retention.ts';
import { seedVolume, type SeedProgress } from '../replicator/replica/seed.ts';
import { verify, type VerifyResult } from '../replicator/replica/verify.ts';
import { ManifestNotReady, type ReceiverStream } from '../replicator/ship/receiver.ts';
import type { TargetConfig } from './stream-config.ts';

export interface TargetStatus {
  role: 'target';
  durableSeq: number;
  appliedSeq: number;
  journalBytes: number;
  checkpoints: number;
  oldestCheckpoint?: { seq: number; time: string };
  newestCheckpoint?: { seq: number; time: string };
  /** From the oldest recoverable checkpoint to now. */
  actualHistorySeconds: number;
  configuredHistorySeconds: number;
  journalWarning: boolean;
  journalOverHardLimit: boolean;
  lastRetentionError?: string;
  /**
   * Each volume: bytes its files (or image) hold in the replica as of the oldest recoverable
   * checkpoint (the journal's share is not split per volume), and whether the source has begun
   * syncing it (false: added here, not yet asked for by the source). A volume created with a seed:
   * `seeding` while its local copy is read (bytesTotal 0 until the copy was walked), then
   * `seeded: true`; a seed that failed gives `seeded: false` and `seedError` (the volume started
   * empty: the source sends all of it).
   */
  volumes: TargetVolumeStatus[];
}

export interface TargetVolumeStatus {
  name: string;
  bytes: number;
  attached: boolean;
  seeding?: SeedProgress;
  seeded?: boolean;
  seedError?: string;
}

interface RunningSeed {
  progress: SeedProgress;
  abort: AbortController;
  done: Promise<void>;
}

/** The seeds of a configuration, volume → path. */
function seedMap(config: TargetConfig): Map<string, string> {
  return new Map((config.seed ?? []).map((s) => [s.volume, s.path]));
}

export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly code: 'NotFound' | 'Conflict' | 'Invalid';
  constructor(code: StreamError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export class TargetStream {
  readonly id: string;
  #config: TargetConfig;
  readonly journal: Journal;
  readonly replica: Replica;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #retention: Promise<void> = Promise.resolve();
  #lastPlan: { warning: boolean; overHardLimit: boolean } = { warning: false, overHardLimit: false };
  #lastRetentionError: string | undefined;
  #closed = false;
  readonly #seeds = new Map<string, RunningSeed>();

  private constructor(id: string, config: TargetConfig, journal: Journal, replica: Replica, log: Logger) {
    this.id = id;
    this.#config = config;
    this.journal = journal;
    this.replica = replica;
    this.#log = log;
  }

  static async open(dir: string, id: string, config: TargetConfig, log: Logger): Promise<TargetStream> {
    await mkdir(dir, { recursive: true });
    const journal = await Journal.open(join(dir, 'journal'), { log });
    if (journal.recovered !== undefined) log.warn({ stream: id, cut: journal.recovered }, 'journal had a torn tail; cut it (nothing acknowledged was lost)');
    let replica: Replica;
    try {
      replica = await Replica.open(join(dir, 'replica'), []);
      const changed = await replica.setVolumes(config.volumes, journal.durableSeq, seedMap(config));
      if (changed.added.length + changed.removed.length > 0) log.info({ stream: id, ...changed }, 'volumes changed while the stream was stopped');
    } catch (err: unknown) {
      await journal.close();
      throw err;
    }
    const stream = new TargetStream(id, config, journal, replica, log);
    stream.#schedule();
    stream.#startSeeds();
    return stream;
  }

  get config(): TargetConfig {
    return this.#config;
  }

  /**
   * A change of volumes (and seeds: they matter only to volumes being added) is made in place;
   * anything else restarts the stream.
   */
  canReconfigure(next: TargetConfig): boolean {
    return isDeepStrictEqual({ ...this.#config, volumes: [], seed: [] }, { ...next, volumes: [], seed: [] });
  }

  /**
   * Adds and removes volumes while the stream runs. A removed volume's replica files go now and
   * its records are skipped from now on (they leave the journal with retention); an added one
   * waits for the source to ask for its manifest, then takes its records (see replica-state.ts).
   */
  async reconfigure(next: TargetConfig): Promise<void> {
    if (!this.canReconfigure(next)) throw new Error(`stream ${this.id}: only its volumes change in place`);
    // A volume going away stops its seed first (its files are about to be removed).
    const staying = new Set(next.volumes.map((v) => v.name));
    await Promise.all([...this.#seeds].filter(([volume]) => !staying.has(volume)).map(([, seed]) => {
      seed.abort.abort(new StreamError('Conflict', 'the volume was removed'));
      return seed.done;
    }));
    const changed = await this.replica.setVolumes(next.volumes, this.journal.durableSeq, seedMap(next));
    this.#config = next;
    this.#log.info({ stream: this.id, ...changed }, 'volumes changed');
    this.#startSeeds();
  }

  /** Starts the seeds the replica has pending and nobody runs (a new volume's, or one a restart interrupted). */
  #startSeeds(): void {
    for (const { volume, path } of this.replica.pendingSeeds()) {
      if (this.#seeds.has(volume) || this.#closed) continue;
      const abort = new AbortController();
      const progress: SeedProgress = { bytesDone: 0, bytesTotal: 0 };
      const started = Date.now();
      this.#log.info({ stream: this.id, volume, path }, 'seeding a volume from a local copy');
      const run = seedVolume({
        replica: this.replica,
        volume,
        signal: abort.signal,
        onProgress: (p) => Object.assign(progress, p),
        ...(this.#config.seedBytesPerSecond !== undefined && { bytesPerSecond: this.#config.seedBytesPerSecond }),
      });
      const done = run.then((r) => {
        this.#log.info({ stream: this.id, volume, path, ...r, seconds: (Date.now() - started) / 1000 }, 'volume seeded: the source syncs the difference');
      }, (err: unknown) => {
        if (abort.signal.aborted) this.#log.info({ stream: this.id, volume }, 'seeding stopped; it starts again with the stream');
        else this.#log.error({ err, stream: this.id, volume, path }, 'seeding failed: the volume starts empty (the source sends all of it)');
      }).finally(() => {
        if (this.#seeds.get(volume)?.done === done) this.#seeds.delete(volume);
      });
      this.#seeds.set(volume, { progress, abort, done });
    }
  }

  /** What the receiver needs to accept a sender of this stream; it reads the volumes live. */
  receiverEntry(): ReceiverStream {
    return {
      token: this.config.token,
      journal: this.journal,
      volume: (name) => {
        const v = this.replica.volume(name);
        if (v !== undefined) return { kind: v.kind, take: v.attached ? 'apply' : 'reset' };
        const retired = this.replica.retiredKind(name);
        return retired === undefined ? undefined : { kind: retired, take: 'ignore' };
      },
      manifest: async (volume) => {
        // A link of a stream being restarted must not write into the replica the new one opened.
        if (this.#closed) throw new StreamError('Conflict', `stream ${this.id} is restarting; retry`);
        const v = this.replica.volume(volume);
        if (v === undefined) throw new StreamError('NotFound', `stream ${this.id} has no volume ${volume} on the recovery side (yet)`);
        // The same words every time: the source logs when the reason it waits changes.
        const seed = this.replica.seedOf(volume);
        if (seed?.state === 'pending') throw new ManifestNotReady(`volume ${volume} is being seeded from a local copy on the recovery side; its sync starts once that is done`);
        // The source asks for a volume's manifest just before it syncs it: records from then on are its.
        if (!v.attached && await this.replica.attachVolume(volume, this.journal.durableSeq)) {
          this.#log.info({ stream: this.id, volume, since: this.journal.durableSeq }, 'the source begins to sync a volume added here');
        }
        return headManifest(this.replica, this.journal, volume);
      },
    };
  }

  #schedule(): void {
    this.#timer = setInterval(() => {
      this.#retention = this.#retention.then(() => this.retainNow()).catch(() => undefined);
    }, this.config.retentionIntervalMs);
    this.#timer.unref();
  }

  /** One retention round: age out what is older than the history, or over the hard limit. */
  async retainNow(now = Date.now()): Promise<void> {
    try {
      const plan = await runRetention(this.replica, this.journal, {
        historyMs: this.config.historyHours * 3_600_000,
        ...(this.config.hardLimitBytes !== undefined && { hardLimitBytes: this.config.hardLimitBytes }),
        ...(this.config.warningBytes !== undefined && { warningBytes: this.config.warningBytes }),
      }, now);
      this.#lastPlan = { warning: plan.warning, overHardLimit: plan.overHardLimit };
      this.#lastRetentionError = undefined;
    } catch (err: unknown) {
      this.#lastRetentionError = (err as Error).message;
      this.#log.error({ err, stream: this.id }, 'retention failed');
    }
  }

  /**
   * Checkpoints that can still be recovered: the replica's own and every later one. The replica's
   * own leaves the journal's list once retention dropped the records through it (its tags added
   * later go with it); the replica keeps what it needs of it.
   */
  checkpoints(): readonly CheckpointInfo[] {
    const later = this.journal.checkpoints().filter((c) => c.seq >= this.replica.appliedSeq);
    const own = this.replica.checkpoint;
    if (own === undefined || own.seq !== this.replica.appliedSeq || later[0]?.seq === own.seq) return later;
    return [{ seq: own.seq, time: own.time, tag: own.tag, tags: [], volumes: own.volumes }, ...later];
  }

  /** The volumes a checkpoint can give back now (not those removed since, nor an older life's). */
  volumesOf(checkpoint: CheckpointInfo): string[] {
    return checkpoint.volumes.map((v) => v.volume).filter((v) => this.replica.coverageProblem(checkpoint, v) === undefined);
  }

  resolveCheckpoint(which: number | 'latest'): CheckpointInfo {
    const all = this.checkpoints();
    const found = which === 'latest' ? all.at(-1) : all.find((c) => c.seq === which);
    if (found === undefined) {
      throw new StreamError('NotFound', which === 'latest' ? `stream ${this.id} has no checkpoint yet` : `stream ${this.id} has no recoverable checkpoint ${which}`);
    }
    return found;
  }

  async tag(seq: number, tag: string): Promise<CheckpointInfo> {
    const cp = this.resolveCheckpoint(seq);
    if (this.journal.checkpoint(cp.seq) === undefined) throw new StreamError('Conflict', `checkpoint ${cp.seq} is the replica's own and left the journal: it takes no more tags`);
    await this.journal.addTag(cp.seq, tag);
    return this.resolveCheckpoint(cp.seq);
  }

  async materialise(which: number | 'latest', targets: ReadonlyMap<string, string>): Promise<{ checkpoint: CheckpointInfo }> {
    const checkpoint = this.resolveCheckpoint(which);
    this.#checkTargets(checkpoint, targets);
    await materialise({ replica: this.replica, journal: this.journal, checkpointSeq: checkpoint.seq, targets: new Map(targets) });
    return { checkpoint };
  }

  async verify(which: number | 'latest', targets: ReadonlyMap<string, string>): Promise<VerifyResult> {
    const checkpoint = this.resolveCheckpoint(which);
    this.#checkTargets(checkpoint, targets);
    return verify({ replica: this.replica, journal: this.journal, checkpointSeq: checkpoint.seq, targets: new Map(targets) });
  }

  /** Each target volume must be the stream's and held by the checkpoint (not added after it). */
  #checkTargets(checkpoint: CheckpointInfo, targets: ReadonlyMap<string, string>): void {
    for (const volume of targets.keys()) {
      if (!this.config.volumes.some((v) => v.name === volume)) {
        const removed = this.replica.retiredKind(volume) !== undefined ? ' (it was removed, and its data with it)' : '';
        throw new StreamError('Invalid', `targets.${volume}: stream ${this.id} has no volume ${volume}${removed}`);
      }
      const problem = this.replica.coverageProblem(checkpoint, volume);
      if (problem !== undefined) throw new StreamError('Invalid', `targets.${volume}: ${problem}`);
    }
  }

  status(now = Date.now()): TargetStatus {
    const cps = this.checkpoints();
    const oldest = cps[0];
    const newest = cps.at(-1);
    const stats = this.journal.stats();
    return {
      role: 'target',
      durableSeq: this.journal.durableSeq,
      appliedSeq: this.replica.appliedSeq,
      journalBytes: stats.bytes,
      checkpoints: cps.length,
      ...(oldest !== undefined && { oldestCheckpoint: { seq: oldest.seq, time: new Date(oldest.time).toISOString() } }),
      ...(newest !== undefined && { newestCheckpoint: { seq: newest.seq, time: new Date(newest.time).toISOString() } }),
      actualHistorySeconds: oldest === undefined ? 0 : Math.max(0, (now - oldest.time) / 1000),
      configuredHistorySeconds: this.config.historyHours * 3600,
      journalWarning: this.#lastPlan.warning,
      journalOverHardLimit: this.#lastPlan.overHardLimit,
      ...(this.#lastRetentionError !== undefined && { lastRetentionError: this.#lastRetentionError }),
      volumes: this.#volumeFigures(),
    };
  }

  #volumeFigures(): TargetStatus['volumes'] {
    const bytes = this.replica.volumeBytes();
    return this.config.volumes.map((v) => {
      const out: TargetVolumeStatus = { name: v.name, bytes: bytes.get(v.name) ?? 0, attached: this.replica.volume(v.name)?.attached ?? false };
      const seed = this.replica.seedOf(v.name);
      if (seed?.state === 'pending') out.seeding = { ...(this.#seeds.get(v.name)?.progress ?? { bytesDone: 0, bytesTotal: 0 }) };
      else if (seed !== undefined) out.seeded = seed.state === 'done';
      if (seed?.error !== undefined) out.seedError = seed.error;
      return out;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    // A seed stopped here stays pending: the next open runs it again.
    const seeds = [...this.#seeds.values()];
    for (const seed of seeds) seed.abort.abort(new StreamError('Conflict', `stream ${this.id} is closing`));
    await Promise.all(seeds.map((seed) => seed.done));
    await this.#retention;
    await this.journal.close();
  }
}
