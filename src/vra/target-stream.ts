// The recovery side of one VPG stream: its journal, its replica, the retention loop that ages
// records out of the journal into the replica, and what the control API asks of them (checkpoints,
// tags, materialise, verify). The receiver (shared by all streams of the VRA) looks streams up here.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Journal, type CheckpointInfo } from '../replicator/journal/journal.ts';
import { headManifest } from '../replicator/replica/head-manifest.ts';
import { materialise } from '../replicator/replica/materialise.ts';
import { Replica } from '../replicator/replica/replica.ts';
import { runRetention } from '../replicator/replica/retention.ts';
import { verify, type VerifyResult } from '../replicator/replica/verify.ts';
import type { Manifest } from '../replicator/manifest.ts';
import type { VolumeKind } from '../replicator/ops.ts';
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
  readonly config: TargetConfig;
  readonly journal: Journal;
  readonly replica: Replica;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #retention: Promise<void> = Promise.resolve();
  #lastPlan: { warning: boolean; overHardLimit: boolean } = { warning: false, overHardLimit: false };
  #lastRetentionError: string | undefined;

  private constructor(id: string, config: TargetConfig, journal: Journal, replica: Replica, log: Logger) {
    this.id = id;
    this.config = config;
    this.journal = journal;
    this.replica = replica;
    this.#log = log;
  }

  static async open(dir: string, id: string, config: TargetConfig, log: Logger): Promise<TargetStream> {
    await mkdir(dir, { recursive: true });
    const journal = await Journal.open(join(dir, 'journal'), { log });
    if (journal.recovered !== undefined) log.warn({ stream: id, cut: journal.recovered }, 'journal had a torn tail; cut it (nothing acknowledged was lost)');
    const replica = await Replica.open(join(dir, 'replica'), config.volumes.map((v) => ({ name: v.name, kind: v.kind })));
    const stream = new TargetStream(id, config, journal, replica, log);
    stream.#schedule();
    return stream;
  }

  /** What the receiver needs to accept a sender of this stream. */
  receiverEntry(): { token: string; journal: Journal; volumes: ReadonlyMap<string, VolumeKind>; manifest(volume: string): Promise<Manifest> } {
    return {
      token: this.config.token,
      volumes: new Map(this.config.volumes.map((v) => [v.name, v.kind])),
      journal: this.journal,
      manifest: (volume) => {
        if (!this.config.volumes.some((v) => v.name === volume)) throw new StreamError('NotFound', `stream ${this.id} has no volume ${volume}`);
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

  /** Checkpoints that can still be recovered: the replica's own and every later one. */
  checkpoints(): readonly CheckpointInfo[] {
    return this.journal.checkpoints().filter((c) => c.seq >= this.replica.appliedSeq);
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
    await this.journal.addTag(cp.seq, tag);
    return this.resolveCheckpoint(cp.seq);
  }

  async materialise(which: number | 'latest', targets: ReadonlyMap<string, string>): Promise<{ checkpoint: CheckpointInfo }> {
    const checkpoint = this.resolveCheckpoint(which);
    this.#checkTargets(targets);
    await materialise({ replica: this.replica, journal: this.journal, checkpointSeq: checkpoint.seq, targets: new Map(targets) });
    return { checkpoint };
  }

  async verify(which: number | 'latest', targets: ReadonlyMap<string, string>): Promise<VerifyResult> {
    const checkpoint = this.resolveCheckpoint(which);
    this.#checkTargets(targets);
    return verify({ replica: this.replica, journal: this.journal, checkpointSeq: checkpoint.seq, targets: new Map(targets) });
  }

  #checkTargets(targets: ReadonlyMap<string, string>): void {
    for (const volume of targets.keys()) {
      if (!this.config.volumes.some((v) => v.name === volume)) throw new StreamError('Invalid', `targets: stream ${this.id} has no volume ${volume}`);
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
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#retention;
    await this.journal.close();
  }
}
