// The streams a VRA serves, as the operator configured them. Each configuration is kept on the
// VRA's volume (streams/{id}/config.json, written atomically) so a restarted VRA picks up every
// stream where it was: targets reopen their journal, sources start with a delta sync, assessments
// with a new baseline. Sources and assessments keep their change rate in change-rate/{id}.json.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import { writeFileDurably } from '../replicator/durable.ts';
import { readState } from '../replicator/replica/replica-state.ts';
import { seedSourceProblem } from '../replicator/replica/seed.ts';
import { AssessStream, type AssessStatus } from './assess-stream.ts';
import { ChangeRateRecorder, type ChangeRate, type CountedBytes } from './change-rate.ts';
import { SourceStream, type SourceStatus } from './source-stream.ts';
import { ConfigError, parseStreamConfig, seedsToApply, streamId, volumeChangeProblem, type StreamConfig, type TargetConfig } from './stream-config.ts';
import { StreamError, TargetStream, type TargetStatus } from './target-stream.ts';

export type Stream = SourceStream | TargetStream | AssessStream;

export interface StreamSummary {
  id: string;
  vpg: { namespace: string; name: string };
  status: SourceStatus | TargetStatus | AssessStatus | FailedStatus;
}

/** One measured volume of a stream (metrics). */
export interface VolumeChangeRate {
  stream: string;
  vpg: { namespace: string; name: string };
  volume: string;
  rate: ChangeRate;
  /** Counted by this process (a counter follows it). */
  counted: { rawBytes: number; compressedBytes: number };
}

/** A configured stream that could not start (a damaged journal): shown, never silently dropped. */
export interface FailedStatus {
  role: StreamConfig['role'];
  state: 'failed';
  error: string;
}

export class StreamRegistry {
  readonly #dir: string;
  readonly #ratesDir: string;
  readonly #log: Logger;
  readonly #streams = new Map<string, Stream>();
  readonly #failed = new Map<string, { config: StreamConfig; error: string }>();
  /** Changes to one stream are serialised; different streams change independently. */
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #senderId = randomUUID();
  /** Each stream's change counts in this process, kept across its restarts (metrics counters). */
  readonly #counted = new Map<string, CountedBytes>();

  constructor(dataDir: string, log: Logger) {
    this.#dir = join(dataDir, 'streams');
    this.#ratesDir = join(dataDir, 'change-rate');
    this.#log = log;
  }

  /** Starts every stream configured before; one that fails to start is logged and skipped. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    for (const id of await readdir(this.#dir)) {
      if (!streamId.safeParse(id).success) continue;
      let config: StreamConfig;
      try {
        config = parseStreamConfig(JSON.parse(await readFile(join(this.#dir, id, 'config.json'), 'utf8')));
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.#log.error({ err, stream: id }, 'stored stream configuration is unreadable; the stream stays stopped');
        continue;
      }
      try {
        this.#streams.set(id, await this.#start(id, config));
      } catch (err: unknown) {
        this.#failed.set(id, { config, error: (err as Error).message });
        this.#log.error({ err, stream: id }, 'stream failed to start');
      }
    }
    await this.#dropStrayRates();
  }

  /** Change rates of streams no longer configured here as a source or assessment (deleted while the VRA was down, say). */
  async #dropStrayRates(): Promise<void> {
    let files: string[];
    try {
      files = await readdir(this.#ratesDir);
    } catch {
      return;
    }
    for (const file of files) {
      const id = file.endsWith('.json') ? file.slice(0, -'.json'.length) : undefined;
      const role = id === undefined ? undefined : (this.#streams.get(id)?.config.role ?? this.#failed.get(id)?.config.role);
      if (role === 'source' || role === 'assess') continue;
      await rm(join(this.#ratesDir, file), { force: true });
      this.#log.info({ file }, 'change rate of a stream no longer here removed');
    }
  }

  get(id: string): Stream | undefined {
    return this.#streams.get(id);
  }

  source(id: string): SourceStream {
    const s = this.#require(id);
    if (!(s instanceof SourceStream)) throw new StreamError('Conflict', `stream ${id} is ${aRole(s.config.role)} here, not a source`);
    return s;
  }

  target(id: string): TargetStream {
    const s = this.#require(id);
    if (!(s instanceof TargetStream)) throw new StreamError('Conflict', `stream ${id} is ${aRole(s.config.role)} here, not a target`);
    return s;
  }

  #require(id: string): Stream {
    const s = this.#streams.get(id);
    const failed = this.#failed.get(id);
    if (failed !== undefined) throw new StreamError('Conflict', `stream ${id} failed to start: ${failed.error}`);
    if (s === undefined) throw new StreamError('NotFound', `no stream ${id} on this VRA`);
    return s;
  }

  /** Why a configured stream is not running, if it failed to start. */
  failure(id: string): { config: StreamConfig; error: string } | undefined {
    return this.#failed.get(id);
  }

  list(): StreamSummary[] {
    return [
      ...[...this.#streams.values()].map((s) => ({ id: s.id, vpg: s.config.vpg, status: s.status() })),
      ...[...this.#failed].map(([id, f]) => ({ id, vpg: f.config.vpg, status: { role: f.config.role, state: 'failed' as const, error: f.error } })),
    ];
  }

  /** Every measured volume of the sources and assessments (metrics). */
  changeRates(): VolumeChangeRate[] {
    return [...this.#streams.values()].flatMap((s) => (s instanceof TargetStream ? [] : s.changeRates().map((f) => ({ stream: s.id, vpg: s.config.vpg, ...f }))));
  }

  /** The target streams the receiver accepts senders for. */
  targets(): TargetStream[] {
    return [...this.#streams.values()].filter((s): s is TargetStream => s instanceof TargetStream);
  }

  /**
   * Creates or updates a stream. The same configuration again changes nothing (the operator
   * re-sends it every reconcile). A change of volumes only is made in place (added volumes sync
   * on their own, removed ones are dropped, the others go on untouched); any other change restarts
   * the stream with it, keeping its data (a source then does a delta sync). A stream cannot change
   * role in place (delete it first: an assessment becomes a source by DELETE, then PUT), nor a
   * volume its kind (remove the volume first; an assessment keeps no data of it, so there it may).
   */
  configure(id: string, value: unknown): Promise<{ created: boolean; changed: boolean }> {
    const parsedId = streamId.safeParse(id);
    if (!parsedId.success) throw new ConfigError(`id: ${parsedId.error.issues[0]?.message ?? 'invalid'}`);
    const config = parseStreamConfig(value);
    return this.#serial(id, async () => {
      const current = this.#streams.get(id);
      if (current !== undefined && current.config.role !== config.role) {
        throw new StreamError('Conflict', `stream ${id} is ${aRole(current.config.role)} here; delete it before configuring it as ${aRole(config.role)}`);
      }
      if (current !== undefined && isDeepStrictEqual(current.config, config)) return { created: false, changed: false };
      const problem = current === undefined || config.role === 'assess' ? undefined : volumeChangeProblem(current.config, config);
      if (problem !== undefined) throw new ConfigError(problem);
      if (config.role === 'target') await this.#checkSeeds(id, config, current);
      await this.#store(id, config);
      if (await reconfigureInPlace(current, config)) {
        this.#log.info({ stream: id, role: config.role, vpg: config.vpg, volumes: config.volumes.map((v) => v.name) }, 'stream volumes changed in place');
        return { created: false, changed: true };
      }
      if (current !== undefined) await stop(current);
      this.#streams.delete(id);
      try {
        this.#streams.set(id, await this.#start(id, config));
        this.#failed.delete(id);
      } catch (err: unknown) {
        this.#failed.set(id, { config, error: (err as Error).message });
        throw err;
      }
      this.#log.info({ stream: id, role: config.role, vpg: config.vpg }, current === undefined ? 'stream configured' : 'stream reconfigured');
      return { created: current === undefined, changed: true };
    });
  }

  /**
   * Stops a stream and, unless told to keep it, deletes its data (journal, replica). Its change
   * rate goes either way: it was this stream's measurement.
   */
  remove(id: string, options: { keepData?: boolean } = {}): Promise<boolean> {
    return this.#serial(id, async () => {
      const current = this.#streams.get(id);
      const failed = this.#failed.delete(id);
      if (current !== undefined) {
        await stop(current);
        this.#streams.delete(id);
      }
      const dir = join(this.#dir, id);
      if (options.keepData === true) await rm(join(dir, 'config.json'), { force: true });
      else await rm(dir, { recursive: true, force: true });
      await rm(this.#ratesFile(id), { force: true });
      this.#counted.delete(id);
      if (current !== undefined || failed) this.#log.info({ stream: id, keepData: options.keepData === true }, 'stream removed');
      return current !== undefined || failed;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#streams.values()].map(stop));
    this.#streams.clear();
  }

  async #start(id: string, config: StreamConfig): Promise<Stream> {
    const log = this.#log.child({ stream: id, vpg: `${config.vpg.namespace}/${config.vpg.name}`, role: config.role });
    if (config.role === 'target') return TargetStream.open(join(this.#dir, id), id, config, log);
    let counted = this.#counted.get(id);
    if (counted === undefined) {
      counted = new Map();
      this.#counted.set(id, counted);
    }
    const rates = await ChangeRateRecorder.open(this.#ratesFile(id), { bucketSeconds: config.changeRateBucketSeconds, log, counted });
    const stream = config.role === 'source' ? new SourceStream(id, config, this.#senderId, log, rates) : new AssessStream(id, config, log, rates);
    stream.start();
    return stream;
  }

  #ratesFile(id: string): string {
    return join(this.#ratesDir, `${id}.json`);
  }

  /**
   * The seeds this configuration starts (those of volumes the replica does not have yet) must be
   * readable copies of the right kind: refused now, with the field named, rather than failing
   * later in the background.
   */
  async #checkSeeds(id: string, config: TargetConfig, current: Stream | undefined): Promise<void> {
    if ((config.seed ?? []).length === 0) return;
    let existing: Set<string>;
    if (current instanceof TargetStream) existing = new Set(current.replica.volumes().map((v) => v.name));
    else {
      // A stream not running here (new, failed, or removed keeping its data): its replica on disk.
      const state = await readState(join(this.#dir, id, 'replica')).catch(() => undefined);
      existing = new Set(state?.volumes.keys() ?? []);
    }
    const problems: string[] = [];
    for (const seed of seedsToApply(config, existing)) {
      const problem = await seedSourceProblem(seed.kind, seed.path);
      if (problem !== undefined) problems.push(`seed.${seed.index}.path: ${problem}`);
    }
    if (problems.length > 0) throw new ConfigError(problems.join('; '));
  }

  async #store(id: string, config: StreamConfig): Promise<void> {
    const dir = join(this.#dir, id);
    await mkdir(dir, { recursive: true });
    await writeFileDurably(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  }

  #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.#locks.set(id, next);
    void next.finally(() => {
      if (this.#locks.get(id) === next) this.#locks.delete(id);
    }).catch(() => undefined);
    return next;
  }
}

/** Applies a change of volumes only to the running stream; false when it needs a restart. */
async function reconfigureInPlace(current: Stream | undefined, config: StreamConfig): Promise<boolean> {
  if (current instanceof SourceStream && config.role === 'source' && current.canReconfigure(config)) {
    await current.reconfigure(config);
    return true;
  }
  if (current instanceof TargetStream && config.role === 'target' && current.canReconfigure(config)) {
    await current.reconfigure(config);
    return true;
  }
  if (current instanceof AssessStream && config.role === 'assess' && current.canReconfigure(config)) {
    await current.reconfigure(config);
    return true;
  }
  return false;
}

function aRole(role: StreamConfig['role']): string {
  return role === 'assess' ? 'an assessment' : `a ${role}`;
}

async function stop(stream: Stream): Promise<void> {
  if (stream instanceof TargetStream) await stream.close();
  else await stream.stop();
}
