// Controllers: a definition (what to reconcile, what to watch) and the running instance the
// manager makes of it while it leads.
//
// Reconciles are level-triggered: events only decide *which* key to reconcile; reconcile gets the
// key and reads the current state (ctx.get() from the cache, or the API). It is never told what
// happened, so a missed, merged or repeated event changes nothing.
//
// Errors: an ordinary error retries the key with per-key exponential backoff. A TerminalError
// (or the crds' InvalidObjectError: a bad spec) is not retried: it is recorded (a Warning event,
// and a False condition on kinds with a status) and the key is skipped until the object's
// generation changes (a new spec), it starts being deleted, or it is recreated.
import type { Logger } from 'pino';
import { InvalidObjectError } from '../crds/parse.ts';
import { validateBackoff, type BackoffOptions } from './backoff.ts';
import type { KubeClient } from './client.ts';
import { setStatusCondition, type Condition } from './conditions.ts';
import { ensure, type EnsureResult } from './apply.ts';
import { TerminalError, errorMessage, isConflict, RuntimeError } from './errors.ts';
import type { EventRecorder, EventSpec } from './events.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import type { Informer } from './informer.ts';
import { reconcileLogger } from './logger.ts';
import type { Registry } from './metrics.ts';
import { ownerKeysOf } from './owners.ts';
import { resourceName, type ResourceType } from './resources.ts';
import { queueMetrics, type RuntimeMetrics } from './runtime-metrics.ts';
import { patchStatusIfChanged, statusPatch } from './status.ts';
import { objectKey, splitKey } from './store.ts';
import type { KubeObject } from './types.ts';
import { DEFAULT_QUEUE_BACKOFF, WorkQueue, runWorkers } from './workqueue.ts';

/** What a reconcile asks for next. Nothing: done until something changes. */
export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (polling something outside the API). */
  requeueAfter?: number;
  /** Reconcile again after the key's backoff delay, without counting an error. */
  requeue?: boolean;
}

/** The informer scope of a watched kind: a namespace, label and field selectors. */
export interface Scope {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

/** Another kind whose changes map to keys of the controller's kind. */
export interface WatchSource<O extends KubeObject = KubeObject> extends Scope {
  resource: ResourceType<O>;
  map(obj: O): readonly string[];
}

/** A child kind: its changes reconcile the owner named by its controller owner reference. */
export type OwnsSource = ResourceType | ({ resource: ResourceType } & Scope);

/** What reconcile may read and write. */
export interface CacheReader {
  /** The cached object, or undefined; throws NoInformer when the kind is not cached. */
  get<O extends KubeObject>(resource: ResourceType<O>, name: string, namespace?: string): O | undefined;
  list<O extends KubeObject>(resource: ResourceType<O>, options?: { namespace?: string; labels?: Record<string, string> }): O[];
  /** Whether this kind (in this namespace) is cached. */
  has(resource: ResourceType, namespace?: string): boolean;
}

export interface ReconcileContext<T extends KubeObject> {
  readonly key: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly log: Logger;
  /** Aborts when the controller stops (shutdown, lost leadership): long waits should honour it. */
  readonly signal: AbortSignal;
  readonly client: KubeClient;
  readonly cache: CacheReader;
  readonly recorder: EventRecorder;
  readonly metrics: Registry;
  readonly fieldManager: string;
  /** The object of this key as the cache has it now; undefined when it does not exist. */
  get(): T | undefined;
  /** Writes the status if it differs from the object's (see status.ts). */
  patchStatusIfChanged(obj: T, desiredStatus: Record<string, unknown>): Promise<{ changed: boolean; object: T }>;
  /**
   * Server-side applies a child, owned by the reconciled object unless `owner` says otherwise,
   * compared with the cached child so that an unchanged child costs no request (see apply.ts).
   */
  ensure<C extends KubeObject>(resource: ResourceType<C>, desired: C, options?: { owner?: { object: KubeObject; resource: ResourceType } | false }): Promise<EnsureResult<C>>;
  addFinalizer(obj: T, finalizer: string): Promise<{ changed: boolean; object: T }>;
  removeFinalizer(obj: T, finalizer: string): Promise<{ changed: boolean; object: T }>;
  /** Records a Kubernetes Event about the object (aggregated, never throws). */
  event(obj: KubeObject, spec: EventSpec): void;
}

export interface ControllerDefinition<T extends KubeObject = KubeObject> {
  /** Names the controller in logs, metrics and events. */
  name: string;
  /** The kind reconciled: keys are "namespace/name" (or "name") of its objects. */
  for: ResourceType<T>;
  /** Scope of the informer of `for`. */
  forScope?: Scope;
  owns?: readonly OwnsSource[];
  watches?: readonly WatchSource[];
  reconcile(key: string, ctx: ReconcileContext<T>): Promise<ReconcileResult | undefined> | Promise<void> | ReconcileResult | undefined;
  /** Concurrent reconciles (never two of one key); default 1. */
  workers?: number;
  backoff?: BackoffOptions;
  /**
   * The condition set False on a terminal error, for kinds with a status subresource; default
   * 'Ready'; false for none.
   */
  terminalCondition?: string | false;
  /** Replaces the default handling of terminal errors (Warning event + condition). */
  onTerminalError?(obj: T | undefined, err: TerminalError | InvalidObjectError, ctx: ReconcileContext<T>): Promise<void>;
  /**
   * Called once the controller has stopped (shutdown, or leadership lost): drop what only a
   * running controller keeps true, e.g. gauges a standby must not go on serving.
   */
  onStop?(): void;
}

/** Keeps the type of `for` for `reconcile`'s context; checks the definition early. */
export function defineController<T extends KubeObject>(definition: ControllerDefinition<T>): ControllerDefinition<T> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(definition.name)) {
    throw new RuntimeError('InvalidOptions', `controller name ${JSON.stringify(definition.name)} must be a DNS label (it names metrics and events)`);
  }
  if (definition.workers !== undefined && !(Number.isInteger(definition.workers) && definition.workers >= 1)) {
    throw new RuntimeError('InvalidOptions', `controller ${definition.name}: workers must be a positive integer`);
  }
  if (definition.backoff !== undefined) validateBackoff(definition.backoff);
  return definition;
}

/** Keeps the type of a watched kind for its `map`. */
export function watchSource<O extends KubeObject>(source: WatchSource<O>): WatchSource {
  return source;
}

export function isTerminal(err: unknown): err is TerminalError | InvalidObjectError {
  return err instanceof TerminalError || err instanceof InvalidObjectError;
}

/** What identifies a spec version: a new generation, a deletion or a re-creation changes it. */
function specFingerprint(obj: KubeObject | undefined): string {
  if (obj === undefined) return 'absent';
  const m = obj.metadata;
  return `${m?.uid ?? ''}|${m?.generation ?? ''}|${m?.deletionTimestamp === undefined ? '' : 'deleting'}`;
}

/** What the manager gives a controller. */
export interface ControllerDeps {
  client: KubeClient;
  cache: CacheReader;
  recorder: EventRecorder;
  registry: Registry;
  metrics: RuntimeMetrics;
  logger: Logger;
  fieldManager: string;
  informer<O extends KubeObject>(resource: ResourceType<O>, scope?: Scope): Informer<O>;
}

interface Source {
  informer: Informer<KubeObject>;
  keys(obj: KubeObject): readonly string[];
}

export class Controller<T extends KubeObject> {
  readonly definition: ControllerDefinition<T>;
  readonly #deps: ControllerDeps;
  readonly #log: Logger;
  readonly #primary: Informer<T>;
  readonly #sources: Source[];
  readonly #terminal = new Map<string, string>();
  #queue: WorkQueue | undefined;
  #workers: Promise<void> | undefined;
  #unsubscribe: (() => void)[] = [];
  #term: AbortController | undefined;

  constructor(definition: ControllerDefinition<T>, deps: ControllerDeps) {
    this.definition = definition;
    this.#deps = deps;
    this.#log = deps.logger.child({ controller: definition.name });
    this.#primary = deps.informer(definition.for, definition.forScope);
    const forResource = definition.for;
    this.#sources = [
      { informer: this.#primary, keys: (obj) => [objectKey(obj)] },
      ...(definition.owns ?? []).map((o): Source => {
        const { resource, ...scope } = 'resource' in o ? o : { resource: o };
        const ownScope = { namespace: definition.forScope?.namespace, ...scope };
        return { informer: deps.informer(resource, ownScope), keys: (obj) => ownerKeysOf(obj, forResource) };
      }),
      ...(definition.watches ?? []).map((w): Source => {
        const scope: Scope = { namespace: w.namespace, labelSelector: w.labelSelector, fieldSelector: w.fieldSelector };
        return { informer: deps.informer(w.resource, scope), keys: (obj) => w.map(obj) };
      }),
    ];
  }

  get running(): boolean {
    return this.#queue !== undefined && !this.#queue.shuttingDown;
  }

  /** The informers this controller reads: all must be synced before it starts. */
  get informers(): Informer<KubeObject>[] {
    return this.#sources.map((s) => s.informer);
  }

  /** Starts reconciling: every cached object of its kind is queued once. */
  start(): void {
    if (this.#queue !== undefined) return;
    const name = this.definition.name;
    const queue = new WorkQueue<string>({ backoff: this.definition.backoff ?? DEFAULT_QUEUE_BACKOFF, metrics: queueMetrics(this.#deps.metrics, name) });
    this.#queue = queue;
    this.#term = new AbortController();
    this.#terminal.clear();
    for (const source of this.#sources) {
      // One add per key and change: adding a key twice could hand the first add to an idle
      // worker at once and mark the second dirty, reconciling it twice for one change.
      const enqueue = (...objs: KubeObject[]): void => {
        for (const key of new Set(objs.flatMap((o) => this.#safeKeys(source, o)))) queue.add(key);
      };
      this.#unsubscribe.push(source.informer.addHandler({
        onAdd: (obj) => enqueue(obj),
        onUpdate: (old, obj) => enqueue(old, obj),
        onDelete: (obj) => enqueue(obj),
      }));
    }
    const workers = this.definition.workers ?? 1;
    this.#log.info({ workers }, 'controller started');
    this.#workers = runWorkers(queue, workers, (key) => this.#reconcile(queue, key), (key, err) => {
      this.#log.error({ err, key }, 'reconcile escaped its error handling');
    });
  }

  /**
   * Stops reconciling. With `drain`, queued keys are still reconciled; after `timeoutMs` the
   * reconciles in flight are told to stop (ctx.signal) and awaited.
   */
  async stop(options: { drain?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const queue = this.#queue;
    if (queue === undefined) return;
    for (const u of this.#unsubscribe.splice(0)) u();
    const drained = queue.shutdown({ drain: options.drain ?? true });
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if (timeoutMs <= 0 || (await Promise.race([drained, timedOut])) === 'timeout') {
      if (timeoutMs > 0) this.#log.warn({ timeoutMs }, 'reconciles still running at the shutdown deadline: aborting them');
      void queue.shutdown({ drain: false });
    }
    clearTimeout(timer);
    this.#term?.abort();
    await this.#workers;
    this.#deps.metrics.queueDepth.remove({ name: this.definition.name });
    this.#queue = undefined;
    this.#workers = undefined;
    this.definition.onStop?.();
    this.#log.info('controller stopped');
  }

  #safeKeys(source: Source, obj: KubeObject): readonly string[] {
    try {
      return source.keys(obj);
    } catch (err: unknown) {
      this.#log.error({ err, informer: resourceName(source.informer.resource) }, 'mapping an object to keys threw');
      return [];
    }
  }

  async #reconcile(queue: WorkQueue, key: string): Promise<void> {
    const name = this.definition.name;
    const m = this.#deps.metrics;
    const obj = this.#primary.store.get(key);
    const fingerprint = specFingerprint(obj);
    const terminal = this.#terminal.get(key);
    if (terminal !== undefined) {
      if (terminal === fingerprint) {
        m.reconciles.inc({ controller: name, result: 'skipped_terminal' });
        return;
      }
      this.#terminal.delete(key);
    }
    const log = reconcileLogger(this.#log, key, obj?.metadata?.generation === undefined ? {} : { generation: obj.metadata.generation });
    const ctx = this.#context(key, log);
    const started = performance.now();
    m.activeWorkers.inc({ controller: name });
    try {
      const result = (await this.definition.reconcile(key, ctx)) ?? {};
      queue.forget(key);
      if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
        queue.addAfter(key, result.requeueAfter);
        m.reconciles.inc({ controller: name, result: 'requeue_after' });
      } else if (result.requeue === true) {
        queue.addRateLimited(key);
        m.reconciles.inc({ controller: name, result: 'requeue' });
      } else {
        m.reconciles.inc({ controller: name, result: 'success' });
      }
    } catch (err: unknown) {
      if (ctx.signal.aborted) {
        log.debug({ err: errorMessage(err) }, 'reconcile ended by shutdown');
      } else if (isTerminal(err)) {
        await this.#handleTerminal(queue, key, obj, fingerprint, err, ctx);
      } else {
        const retryInMs = queue.addRateLimited(key);
        m.reconciles.inc({ controller: name, result: 'error' });
        m.reconcileErrors.inc({ controller: name });
        // A conflict is optimistic concurrency doing its job: the retry reads the fresh object.
        if (isConflict(err)) log.debug({ err: errorMessage(err), retryInMs }, 'conflict: retrying');
        else log.error({ err, retryInMs, retries: queue.retries(key) }, 'reconcile failed: retrying');
      }
    } finally {
      m.activeWorkers.dec({ controller: name });
      m.reconcileDuration.observe({ controller: name }, (performance.now() - started) / 1000);
    }
  }

  async #handleTerminal(queue: WorkQueue, key: string, obj: T | undefined, fingerprint: string, err: TerminalError | InvalidObjectError, ctx: ReconcileContext<T>): Promise<void> {
    const name = this.definition.name;
    ctx.log.warn({ err: err.message, code: err.code }, 'terminal error: not retrying until the object changes');
    try {
      if (this.definition.onTerminalError !== undefined) await this.definition.onTerminalError(obj, err, ctx);
      else if (obj !== undefined) await this.#defaultTerminal(obj, err, ctx);
      queue.forget(key);
      this.#terminal.set(key, fingerprint);
      this.#deps.metrics.reconciles.inc({ controller: name, result: 'terminal' });
    } catch (recordErr: unknown) {
      // Recording the verdict failed (a conflict, the API server away): that is worth a retry.
      const retryInMs = queue.addRateLimited(key);
      this.#deps.metrics.reconciles.inc({ controller: name, result: 'error' });
      this.#deps.metrics.reconcileErrors.inc({ controller: name });
      ctx.log.warn({ err: errorMessage(recordErr), retryInMs }, 'could not record a terminal error: retrying');
    }
  }

  async #defaultTerminal(obj: T, err: TerminalError | InvalidObjectError, ctx: ReconcileContext<T>): Promise<void> {
    const reason = err instanceof TerminalError ? err.reason : 'InvalidSpec';
    ctx.event(obj, { type: 'Warning', reason, action: 'Reconcile', note: err.message });
    const type = this.definition.terminalCondition ?? 'Ready';
    if (type === false || this.definition.for.statusSubresource !== true) return;
    const status = (obj as { status?: Record<string, unknown> }).status ?? {};
    const generation = obj.metadata?.generation;
    const { conditions } = setStatusCondition(status['conditions'] as Condition[] | undefined, {
      type, status: 'False', reason, message: err.message.slice(0, 32_768), ...(generation !== undefined && { observedGeneration: generation }),
    });
    await ctx.patchStatusIfChanged(obj, { ...status, conditions });
  }

  #context(key: string, log: Logger): ReconcileContext<T> {
    const deps = this.#deps;
    const forResource = this.definition.for;
    const { namespace, name } = splitKey(key);
    const signal = this.#term?.signal ?? AbortSignal.abort();
    const get = (): T | undefined => this.#primary.store.get(key);
    return {
      key, name, namespace, log, signal,
      client: deps.client, cache: deps.cache, recorder: deps.recorder, metrics: deps.registry, fieldManager: deps.fieldManager,
      get,
      patchStatusIfChanged: async (obj, desired) => {
        const result = await patchStatusIfChanged(deps.client, forResource, obj, desired, { fieldManager: deps.fieldManager });
        if (result.changed) log.debug({ patch: statusPatch(obj, desired), resourceVersion: result.object.metadata?.resourceVersion }, 'status written');
        return result;
      },
      ensure: <C extends KubeObject>(resource: ResourceType<C>, desired: C, options: { owner?: { object: KubeObject; resource: ResourceType } | false } = {}) => {
        let owner: { object: KubeObject; resource: ResourceType } | undefined;
        if (options.owner === undefined) {
          const self = get();
          if (self === undefined) throw new RuntimeError('InvalidOptions', `ensure: ${key} is not in the cache to own the child; pass owner or owner: false`);
          owner = { object: self, resource: forResource };
        } else if (options.owner !== false) {
          owner = options.owner;
        }
        const childNs = desired.metadata?.namespace;
        const childName = desired.metadata?.name ?? '';
        const live = deps.cache.has(resource, childNs) ? deps.cache.get(resource, childName, childNs) ?? null : undefined;
        return ensure(deps.client, resource, desired, { owner, live, fieldManager: deps.fieldManager, logger: log });
      },
      addFinalizer: (obj, finalizer) => addFinalizer(deps.client, forResource, obj, finalizer, { fieldManager: deps.fieldManager }),
      removeFinalizer: (obj, finalizer) => removeFinalizer(deps.client, forResource, obj, finalizer, { fieldManager: deps.fieldManager }),
      event: (obj, spec) => deps.recorder.event(obj, spec),
    };
  }
}
