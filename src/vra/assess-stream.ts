// An assessment: a VPG's volumes measured for their change rate before they are protected, so a
// tenant can size the journal, the link and the recovery site first. It passes over the volumes
// with the captures a source uses, every checkpointIntervalMs, into a sink that encodes each record
// as the sender would (same codec, same compress setting) to count its size, then drops it:
// nothing is shipped, no journal is kept, the only thing written is the change rate's file.
//
// A volume's first complete pass is its baseline (the capture learns the volume; counting it
// would count the whole volume as changed) and is not counted; each pass after it counts what
// changed since the one before, as a source would ship it. A VRA restart begins with a new
// baseline (what changed while it was down is not known) and keeps the window measured so far.
//
// To protect the VPG afterwards the operator deletes this stream and configures a source (a
// stream does not change role in place; the source measures its own change rate from its first
// synced pass on).
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import { encodeRecordParts, recordLength } from '../replicator/codec.ts';
import type { RecordSink, VolumeCapture } from '../replicator/capture/volume-capture.ts';
import { rawRecordBytes } from '../replicator/ship/sender.ts';
import type { ChangeRate, ChangeRateRecorder } from './change-rate.ts';
import { newCapture, type VolumeSpec } from './source-volumes.ts';
import type { AssessConfig } from './stream-config.ts';

export type AssessState = 'baseline' | 'measuring';

export interface AssessVolumeStatus {
  name: string;
  kind: 'fs' | 'block';
  state: AssessState;
  /** Present once the volume has been measured (kept across restarts); a zero rate is an answer. */
  changeRate?: ChangeRate;
  /** Why its last pass failed (the path is missing, unreadable); it is tried again every pass. */
  problem?: string;
}

export interface AssessStatus {
  role: 'assess';
  /** measuring once every volume has its baseline. */
  state: AssessState;
  volumes: AssessVolumeStatus[];
  /** Rounds over all volumes since the stream started. */
  passes: number;
  lastError?: string;
}

interface AssessVolume {
  readonly spec: VolumeSpec;
  readonly capture: VolumeCapture;
  state: AssessState;
  removed: boolean;
  problem?: string;
}

export class AssessStream {
  readonly id: string;
  #config: AssessConfig;
  readonly #log: Logger;
  readonly #rates: ChangeRateRecorder;
  #volumes = new Map<string, AssessVolume>();
  /** The volume whose pass is running: a removed one is closed once its pass ends. */
  #current: AssessVolume | undefined;
  #passes = 0;
  #lastError: string | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(id: string, config: AssessConfig, log: Logger, rates: ChangeRateRecorder) {
    this.id = id;
    this.#config = config;
    this.#log = log;
    this.#rates = rates;
    for (const spec of config.volumes) this.#volumes.set(spec.name, this.#newVolume(spec, config.watch));
    rates.retain(config.volumes.map((v) => v.name));
  }

  get config(): AssessConfig {
    return this.#config;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#isStopped()) {
      const started = Date.now();
      for (const v of [...this.#volumes.values()]) {
        if (this.#isStopped()) break;
        if (v.removed) continue;
        await this.#pass(v);
      }
      if (this.#isStopped()) break;
      this.#passes++;
      const problems = [...this.#volumes.values()].flatMap((v) => (v.problem === undefined ? [] : [v.problem]));
      this.#lastError = problems.length > 0 ? problems.join('; ') : undefined;
      await this.#sleep(Math.max(0, this.#config.checkpointIntervalMs - (Date.now() - started)));
    }
  }

  async #pass(v: AssessVolume): Promise<void> {
    this.#current = v;
    try {
      const r = await v.capture.pass(this.#sink(v));
      delete v.problem;
      if (r.complete && v.state === 'baseline' && !v.removed) {
        v.state = 'measuring';
        this.#rates.meter.measure(v.spec.name, true);
        this.#log.info({ stream: this.id, volume: v.spec.name }, 'baseline taken: the volume\'s change rate is measured from now on');
      }
    } catch (err: unknown) {
      if (v.removed || this.#isStopped()) return;
      const problem = `volume ${v.spec.name}: ${(err as Error).message}`;
      if (v.problem !== problem) this.#log.warn({ err, stream: this.id, volume: v.spec.name }, 'assessment pass failed; retrying');
      v.problem = problem;
    } finally {
      this.#current = undefined;
      if (v.removed) v.capture.close();
    }
  }

  /**
   * Takes every record (a capture's manifest then means "what the last pass saw"); once the volume
   * has its baseline, each op is encoded as the sender would and counted, then dropped. It refuses
   * only when the stream stops or the volume goes, which ends the pass at once.
   */
  #sink(v: AssessVolume): RecordSink {
    let seq = 0;
    return {
      push: (record, done) => {
        try {
          if (v.removed || this.#isStopped()) return Promise.resolve(false);
          if (record.kind === 'op' && v.state === 'measuring') {
            const encoded = recordLength(encodeRecordParts(record, { compress: this.#config.compress }));
            this.#rates.meter.count(v.spec.name, rawRecordBytes(record, encoded), encoded);
          }
          return Promise.resolve(++seq);
        } finally {
          // Measured and dropped: nothing keeps the data.
          done?.();
        }
      },
    };
  }

  #newVolume(spec: VolumeSpec, watch: boolean): AssessVolume {
    return { spec, capture: newCapture(spec, watch), state: 'baseline', removed: false };
  }

  /** A change of volumes only is made in place; anything else restarts the stream. */
  canReconfigure(next: AssessConfig): boolean {
    return isDeepStrictEqual({ ...this.#config, volumes: [] }, { ...next, volumes: [] });
  }

  /**
   * Adds and removes volumes while the stream runs: an added one (or one given another path or
   * kind) takes its own baseline; a removed one's measurement goes; the others go on untouched.
   */
  reconfigure(next: AssessConfig): Promise<void> {
    if (!this.canReconfigure(next)) return Promise.reject(new Error(`stream ${this.id}: only its volumes change in place`));
    const wanted = new Map<string, VolumeSpec>(next.volumes.map((s) => [s.name, s]));
    const volumes = new Map<string, AssessVolume>();
    for (const v of this.#volumes.values()) {
      if (isDeepStrictEqual(wanted.get(v.spec.name), v.spec)) continue;
      v.removed = true;
      // Not measured until the volume in its new place has its baseline.
      this.#rates.meter.measure(v.spec.name, false);
      if (this.#current !== v) v.capture.close();
    }
    for (const spec of next.volumes) {
      const kept = this.#volumes.get(spec.name);
      volumes.set(spec.name, kept !== undefined && !kept.removed ? kept : this.#newVolume(spec, next.watch));
    }
    this.#volumes = volumes;
    this.#config = next;
    this.#rates.retain(next.volumes.map((s) => s.name));
    this.#log.info({ stream: this.id, volumes: next.volumes.map((s) => s.name) }, 'volumes changed');
    this.#wake?.();
    return Promise.resolve();
  }

  status(): AssessStatus {
    const volumes = [...this.#volumes.values()].map((v): AssessVolumeStatus => {
      const changeRate = this.#rates.meter.rate(v.spec.name);
      return {
        name: v.spec.name,
        kind: v.spec.kind,
        state: v.state,
        ...(changeRate !== undefined && { changeRate }),
        ...(v.problem !== undefined && { problem: v.problem }),
      };
    });
    return {
      role: 'assess',
      state: volumes.every((v) => v.state === 'measuring') ? 'measuring' : 'baseline',
      volumes,
      passes: this.#passes,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  /** Each volume's change rate, with what was counted since the stream started (metrics). */
  changeRates(): ReturnType<ChangeRateRecorder['figures']> {
    return this.#rates.figures();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    // A running pass ends at its next push (the sink refuses once stopped).
    await this.#loop;
    for (const v of this.#volumes.values()) v.capture.close();
    await this.#rates.close();
  }

  /** Read through a call: stop() flips it while #run awaits, which flow analysis cannot see. */
  #isStopped(): boolean {
    return this.#stopped;
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
}
