// An informer: list, then watch from the list's resourceVersion, keeping a Store of one kind (in
// a namespace or all, optionally filtered by label/field selectors) and telling handlers about
// adds, updates and deletes. It owns its restarts, because client-node's informer stops on any
// error but 410:
//
// - 410 Gone (an ERROR event or an HTTP 410): the resourceVersion is too old: re-list, and the
//   store's diff against the fresh list produces the adds, updates and deletes that were missed.
// - Any other failure: reconnect from the last resourceVersion after an exponential backoff.
// - Each watch asks the API server to end it after `watchTimeoutSeconds` (randomised so that many
//   informers do not reconnect in step) and to send bookmarks, so the resourceVersion stays
//   fresh and a reconnect rarely needs a re-list. client-node's Watch aborts a connection that is
//   silent for 30 s, which is why the default timeout stays under that.
// - A watchdog restarts a watch that said nothing (no event, no bookmark, no end) for longer
//   than its timeout: a connection a proxy keeps open but no longer forwards.
import type { Logger } from 'pino';
import { Backoff, sleep, type BackoffOptions } from './backoff.ts';
import type { KubeClient, WatchEventType } from './client.ts';
import { ApiError, RuntimeError, errorMessage, isGone } from './errors.ts';
import { resourceName, type ResourceType } from './resources.ts';
import { Store } from './store.ts';
import type { KubeObject, Status } from './types.ts';
import { Watchdog } from './watchdog.ts';
import { silentLogger } from './logger.ts';

export interface InformerHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export type WatchEndReason = 'gone' | 'silent' | 'closed' | 'error' | 'requested';

/** Hooks for a metrics registry; all optional. */
export interface InformerMetrics {
  list?(): void;
  watch?(): void;
  watchEnded?(reason: WatchEndReason): void;
  event?(type: WatchEventType): void;
  synced?(synced: boolean): void;
}

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  resource: ResourceType<T>;
  /** Only this namespace (namespaced kinds); default all. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** The API server ends each watch after a random 80–100 % of this; default 25 s. */
  watchTimeoutSeconds?: number | undefined;
  /** A watch silent for this long is restarted; must exceed watchTimeoutSeconds. Default 28 s. */
  watchdogMs?: number | undefined;
  /** Between failed lists or watches; default 500 ms doubling to 30 s. */
  backoff?: BackoffOptions | undefined;
  /** Objects per list page; default 500. */
  pageSize?: number | undefined;
  logger?: Logger | undefined;
  metrics?: InformerMetrics | undefined;
}

/** Why the runtime thinks of informers by these: one per kind and scope, shared by controllers. */
export function informerKey(o: { resource: ResourceType; namespace?: string | undefined; labelSelector?: string | undefined; fieldSelector?: string | undefined }): string {
  return [resourceName(o.resource), o.namespace ?? '', o.labelSelector ?? '', o.fieldSelector ?? ''].join('|');
}

interface WatchOutcome {
  reason: WatchEndReason | 'stopped';
  error?: unknown;
  events: number;
  durationMs: number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  ended: Record<WatchEndReason, number>;
}

export class Informer<T extends KubeObject> {
  readonly store = new Store<T>();
  readonly resource: ResourceType<T>;
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, ended: { gone: 0, silent: 0, closed: 0, error: 0, requested: 0 } };
  readonly #options: InformerOptions<T>;
  readonly #log: Logger;
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #backoff: Backoff;
  readonly #watchTimeoutSeconds: number;
  readonly #watchdogMs: number;
  readonly #stop = new AbortController();
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => undefined;
  #hasSynced = false;
  #resourceVersion = '';
  #abortWatch: ((reason: WatchEndReason | 'stopped') => void) | undefined;
  #pendingRestart: string | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.resource = options.resource;
    this.namespace = options.resource.namespaced ? options.namespace : undefined;
    this.labelSelector = options.labelSelector === '' ? undefined : options.labelSelector;
    this.fieldSelector = options.fieldSelector === '' ? undefined : options.fieldSelector;
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds ?? 25;
    this.#watchdogMs = options.watchdogMs ?? 28_000;
    if (!(this.#watchTimeoutSeconds >= 1) || this.#watchdogMs <= this.#watchTimeoutSeconds * 1000) {
      throw new RuntimeError('InvalidOptions', `informer ${resourceName(options.resource)}: watchdogMs (${this.#watchdogMs}) must exceed watchTimeoutSeconds (${this.#watchTimeoutSeconds}) in ms`);
    }
    this.#backoff = new Backoff(options.backoff ?? { baseMs: 500, maxMs: 30_000 });
    this.#log = (options.logger ?? silentLogger()).child({ informer: resourceName(options.resource), ...(this.namespace !== undefined && { namespace: this.namespace }) });
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** A method, not a property read: TypeScript would narrow a property read across awaits. */
  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** The first list has been stored: the cache is complete. */
  hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** Resolves true once synced, false if the signal aborted or the informer stopped first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#hasSynced) return true;
    const stopped = new Promise<false>((resolve) => {
      const done = (): void => resolve(false);
      if (signal?.aborted === true || this.#stopped()) done();
      signal?.addEventListener('abort', done, { once: true });
      this.#stop.signal.addEventListener('abort', done, { once: true });
    });
    return Promise.race([this.#synced.then(() => true), stopped]);
  }

  /** The resourceVersion the cache is at (of the last list, event or bookmark). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /**
   * Handlers run synchronously, in registration order, for every change. One added after the
   * first sync is first told about every cached object as an add. Returns the unsubscribe.
   */
  addHandler(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    if (this.#hasSynced) {
      for (const obj of this.store.list()) this.#call(handler, 'onAdd', () => handler.onAdd?.(obj));
    }
    return () => this.#handlers.delete(handler);
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    if (this.#running !== undefined || this.#stopped()) return;
    this.#running = this.#run().catch((err: unknown) => {
      this.#log.error({ err }, 'informer stopped on an unexpected error');
    });
  }

  async stop(): Promise<void> {
    if (!this.#stopped()) {
      this.#stop.abort();
      this.#abortWatch?.('stopped');
    }
    await this.#running;
  }

  /**
   * Ends the current watch and watches again from `resourceVersion` (default: where the cache
   * is): for an operator that knows its watch is stale, and for tests of the 410 path.
   */
  restartWatch(resourceVersion?: string): void {
    if (resourceVersion !== undefined) this.#pendingRestart = resourceVersion;
    this.#abortWatch?.('requested');
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stopped()) {
      if (needList) {
        try {
          await this.#list();
          needList = false;
        } catch (err: unknown) {
          if (this.#stopped()) return;
          const delay = this.#backoff.next();
          this.#log.warn({ err: errorMessage(err), retryInMs: delay }, 'list failed');
          await sleep(delay, this.#stop.signal);
          continue;
        }
      }
      if (this.#pendingRestart !== undefined) {
        this.#resourceVersion = this.#pendingRestart;
        this.#pendingRestart = undefined;
      }
      const outcome = await this.#watchOnce();
      if (outcome.reason === 'stopped') return;
      this.stats.ended[outcome.reason]++;
      this.#options.metrics?.watchEnded?.(outcome.reason);
      switch (outcome.reason) {
        case 'gone':
          this.#log.info({ resourceVersion: this.#resourceVersion }, 'resourceVersion expired (410): re-listing');
          needList = true;
          break;
        case 'error': {
          const delay = this.#backoff.next();
          this.#log.warn({ err: errorMessage(outcome.error), retryInMs: delay }, 'watch failed');
          await sleep(delay, this.#stop.signal);
          break;
        }
        case 'closed':
          // An answer that ends at once with nothing in it, again and again, must not spin.
          if (outcome.events === 0 && outcome.durationMs < 1000) await sleep(this.#backoff.next(), this.#stop.signal);
          else this.#backoff.reset();
          break;
        case 'silent':
          this.#log.warn({ silentForMs: this.#watchdogMs }, 'watch went silent: restarting it');
          break;
        case 'requested':
          break;
      }
    }
  }

  async #list(): Promise<void> {
    this.stats.lists++;
    this.#options.metrics?.list?.();
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    for (;;) {
      let page;
      try {
        page = await this.#options.client.list(this.resource, {
          namespace: this.namespace, labelSelector: this.labelSelector, fieldSelector: this.fieldSelector,
          limit: this.#options.pageSize ?? 500, continue: token, signal: this.#stop.signal,
        });
      } catch (err: unknown) {
        // The continue token of a long list expired: start the list again.
        if (token !== undefined && isGone(err)) {
          items.length = 0;
          token = undefined;
          continue;
        }
        throw err;
      }
      items.push(...page.items);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue;
      if (token === undefined || token === '') break;
    }
    if (this.#stopped()) return;
    this.#resourceVersion = resourceVersion;
    const diff = this.store.replace(items);
    this.#backoff.reset();
    for (const obj of diff.added) this.#emit('onAdd', (h) => h.onAdd?.(obj));
    for (const { old, obj } of diff.updated) this.#emit('onUpdate', (h) => h.onUpdate?.(old, obj));
    for (const obj of diff.deleted) this.#emit('onDelete', (h) => h.onDelete?.(obj));
    this.#log.debug({ objects: items.length, resourceVersion, ...(this.#hasSynced && { added: diff.added.length, updated: diff.updated.length, deleted: diff.deleted.length }) }, 'listed');
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#options.metrics?.synced?.(true);
      this.#markSynced();
    }
  }

  #watchOnce(): Promise<WatchOutcome> {
    return new Promise((resolve) => {
      const started = Date.now();
      let events = 0;
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (reason: WatchOutcome['reason'], error?: unknown): void => {
        if (settled) return;
        settled = true;
        watchdog.stop();
        this.#abortWatch = undefined;
        controller?.abort();
        resolve({ reason, events, durationMs: Date.now() - started, ...(error !== undefined && { error }) });
      };
      const watchdog = new Watchdog(this.#watchdogMs, () => finish('silent'));
      this.#abortWatch = (reason) => finish(reason);
      if (this.#stopped()) {
        finish('stopped');
        return;
      }
      watchdog.kick();
      this.stats.watches++;
      this.#options.metrics?.watch?.();
      // Spread: 80–100 % of the configured timeout, whole seconds.
      const timeoutSeconds = Math.max(1, Math.floor(this.#watchTimeoutSeconds * (0.8 + 0.2 * Math.random())));
      this.#options.client.watch(
        this.resource,
        {
          namespace: this.namespace, labelSelector: this.labelSelector, fieldSelector: this.fieldSelector,
          resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds,
        },
        (type, object) => {
          if (settled) return;
          watchdog.kick();
          events++;
          this.#options.metrics?.event?.(type);
          if (type === 'ERROR') {
            const status = object as Status;
            if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') finish('gone');
            else finish('error', new ApiError({ statusCode: status.code ?? 500, method: 'WATCH', path: resourceName(this.resource), status }));
            return;
          }
          this.#apply(type, object as T);
        },
        (err: unknown) => {
          if (settled) return;
          if (err === null || err === undefined) finish('closed');
          else if (isGone(err)) finish('gone');
          else if (err instanceof Error && err.name === 'TimeoutError') finish('silent');
          else finish('error', err);
        },
      ).then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (err: unknown) => finish('error', err),
      );
    });
  }

  #apply(type: WatchEventType, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.#resourceVersion = rv;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.store.upsert(obj);
        if (old === undefined) this.#emit('onAdd', (h) => h.onAdd?.(obj));
        else if (old.metadata?.resourceVersion !== rv) this.#emit('onUpdate', (h) => h.onUpdate?.(old, obj));
        break;
      }
      case 'DELETED': {
        this.store.delete(obj);
        this.#emit('onDelete', (h) => h.onDelete?.(obj));
        break;
      }
      default:
        // BOOKMARK: only the resourceVersion, taken above.
        break;
    }
  }

  #emit(what: keyof InformerHandler<T>, call: (h: InformerHandler<T>) => void): void {
    for (const h of this.#handlers) this.#call(h, what, () => call(h));
  }

  #call(_h: InformerHandler<T>, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err: unknown) {
      this.#log.error({ err, handler: what }, 'informer handler threw');
    }
  }
}

