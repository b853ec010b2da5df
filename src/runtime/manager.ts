// The manager: one per operator process. It owns the API client (and its request counter), the
// shared informers, the controllers, leader election, the event recorder and the HTTP server.
//
// Life cycle:
//   start(): HTTP server up, informers list and watch (standbys keep warm caches too), then
//            campaign for the Lease; on leading, once every informer synced, controllers start.
//   stop():  readyz fails, controllers drain (the Lease is still renewed meanwhile), the Lease
//            is released (unless simulating a crash), events flush, informers stop, the HTTP
//            server closes.
// Losing the Lease (renewals failing past renewDeadline) stops the controllers at once (no
// drain, in-flight reconciles see ctx.signal abort) and goes back to campaigning, with fresh
// queues; the caches stay warm.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KubeClient } from './client.ts';
import { Controller, type CacheReader, type ControllerDefinition, type Scope } from './controller.ts';
import { RuntimeError } from './errors.ts';
import { EventRecorder } from './events.ts';
import { startHttpServer, type HttpServer } from './http-server.ts';
import { Informer, informerKey, type InformerOptions } from './informer.ts';
import { LeaderElector, defaultIdentity, type LeaderElectionConfig } from './leader-election.ts';
import { createLogger } from './logger.ts';
import { Registry } from './metrics.ts';
import { resourceName, type ResourceType } from './resources.ts';
import { countWrites, createRuntimeMetrics, eventMetrics, informerMetrics, type RuntimeMetrics } from './runtime-metrics.ts';
import { DEFAULT_FIELD_MANAGER } from './status.ts';
import type { KubeObject } from './types.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger?: Logger;
  /** Field manager of every write; default zcsp-manager. */
  fieldManager?: string;
  /** Who reports events; default zcsp.io/manager. */
  reportingController?: string;
  /** This process among the candidates; default pod name + random suffix. */
  identity?: string;
  /** /metrics, /healthz, /readyz; port 0 picks one; false for none. Default port 8080 on all interfaces. */
  http?: { port: number; host?: string } | false;
  /** Leader election on a Lease; false runs controllers at once (one replica, tests). */
  leaderElection?: LeaderElectionConfig | false;
  /** Defaults of every informer (watch timeout, watchdog, backoff). */
  informers?: Pick<InformerOptions<KubeObject>, 'watchTimeoutSeconds' | 'watchdogMs' | 'backoff' | 'pageSize'>;
  /** Graceful stop: drain queued keys (default true) within timeoutMs (default 30 s). */
  shutdown?: { drain?: boolean; timeoutMs?: number };
  /** Event aggregation settings (see events.ts). */
  events?: { seriesFlushMs?: number; seriesWindowMs?: number; burst?: number; refillMs?: number };
}

export class Manager {
  readonly client: KubeClient;
  /** Register domain metrics here: they are served on /metrics with the runtime's. */
  readonly registry = new Registry();
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
  readonly recorder: EventRecorder;
  readonly identity: string;
  readonly fieldManager: string;
  readonly cache: CacheReader;
  readonly #o: ManagerOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller<KubeObject>[] = [];
  readonly #elector: LeaderElector | undefined;
  readonly #stopSignal = new AbortController();
  #http: HttpServer | undefined;
  #started = false;
  #leading = false;
  #controllersRunning = false;
  #stopping: Promise<void> | undefined;
  #signalHandlers: (() => void) | undefined;

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.log = options.logger ?? createLogger();
    this.identity = options.identity ?? defaultIdentity();
    this.fieldManager = options.fieldManager ?? DEFAULT_FIELD_MANAGER;
    this.metrics = createRuntimeMetrics(this.registry);
    const m = this.metrics;
    this.client = new KubeClient(options.kubeConfig, {
      userAgent: `zcsp-manager/${this.identity}`,
      observe: (r) => {
        m.apiRequests.inc({ verb: r.verb, resource: r.resource, code: r.code });
        m.apiRequestDuration.observe({ verb: r.verb }, r.durationSeconds);
      },
    });
    this.recorder = new EventRecorder({
      client: this.client,
      reportingController: options.reportingController ?? 'zcsp.io/manager',
      reportingInstance: this.identity,
      logger: this.log.child({ component: 'events' }),
      metrics: eventMetrics(m),
      ...options.events,
    });
    m.informerObjects.onCollect(() => {
      for (const [k, i] of this.#informers) m.informerObjects.set({ informer: k.replace(/\|+$/, '') }, i.store.size);
    });
    this.cache = {
      get: <O extends KubeObject>(resource: ResourceType<O>, name: string, namespace?: string): O | undefined =>
        this.#cachedInformer(resource, namespace).store.getByName(name, resource.namespaced ? namespace : undefined),
      list: <O extends KubeObject>(resource: ResourceType<O>, opts: { namespace?: string; labels?: Record<string, string> } = {}): O[] =>
        this.#cachedInformer(resource, opts.namespace).store.list(opts),
      has: (resource, namespace) => this.#findInformer(resource, namespace) !== undefined,
    };
    if (options.leaderElection !== undefined && options.leaderElection !== false) {
      const lease = `${options.leaderElection.namespace}/${options.leaderElection.name}`;
      m.leader.set({ lease }, 0);
      this.#elector = new LeaderElector({
        ...options.leaderElection,
        identity: this.identity,
        client: this.client,
        logger: this.log.child({ component: 'leader-election' }),
        onStartedLeading: (signal) => {
          m.leader.set({ lease }, 1);
          void this.#lead(signal);
        },
        onStoppedLeading: async () => {
          m.leader.set({ lease }, 0);
          // Lost (not stopping): another candidate may lead already, so stop at once, no drain.
          await this.#stopControllers(this.#stopping === undefined);
        },
      });
    }
  }

  /** Adds a controller; its informers are created now and start with the manager. */
  add<T extends KubeObject>(definition: ControllerDefinition<T>): Controller<T> {
    if (this.#started) throw new RuntimeError('InvalidOptions', `add controller ${definition.name} before start()`);
    if (this.#controllers.some((c) => c.definition.name === definition.name)) {
      throw new RuntimeError('InvalidOptions', `a controller named ${definition.name} was added already`);
    }
    const controller = new Controller(definition, {
      client: this.client,
      cache: this.cache,
      recorder: this.recorder,
      registry: this.registry,
      metrics: this.metrics,
      logger: this.log,
      fieldManager: this.fieldManager,
      informer: (resource, scope) => this.informer(resource, scope),
    });
    this.#controllers.push(controller);
    return controller;
  }

  /** The shared informer of a kind and scope (created on first use, started with the manager). */
  informer<T extends KubeObject>(resource: ResourceType<T>, scope: Scope = {}): Informer<T> {
    const normalised: Scope = resource.namespaced ? scope : { ...scope, namespace: undefined };
    const key = informerKey({ resource, ...normalised });
    let informer = this.#informers.get(key);
    if (informer === undefined) {
      const label = key.replace(/\|+$/, '');
      informer = new Informer<KubeObject>({
        client: this.client,
        resource: resource,
        ...normalised,
        ...this.#o.informers,
        logger: this.log,
        metrics: informerMetrics(this.metrics, label),
      });
      this.#informers.set(key, informer);
      if (this.#started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  get url(): string | undefined {
    return this.#http?.url;
  }

  isLeader(): boolean {
    return this.#elector === undefined ? this.#started && this.#stopping === undefined : this.#elector.isLeader();
  }

  /** Every informer has listed its objects. */
  synced(): boolean {
    return [...this.#informers.values()].every((i) => i.hasSynced());
  }

  /** Why the manager is not ready (the /readyz checks), or an empty list. */
  readiness(): string[] {
    const problems: string[] = [];
    if (this.#stopping !== undefined) problems.push('shutting down');
    if (!this.#started) problems.push('not started');
    const unsynced = [...this.#informers.entries()].filter(([, i]) => !i.hasSynced()).map(([k]) => k.replace(/\|+$/, ''));
    if (unsynced.length > 0) problems.push(`informers not synced: ${unsynced.join(', ')}`);
    if (this.#leading && !this.#controllersRunning) problems.push('leading, controllers not running yet');
    return problems;
  }

  /** Write requests made so far (see countWrites). */
  writes(filter: { resources?: readonly string[]; excludeResources?: readonly string[] } = {}): number {
    return countWrites(this.metrics.apiRequests, filter);
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const http = this.#o.http ?? { port: 8080 };
    if (http !== false) {
      this.#http = await startHttpServer({
        ...http,
        registry: this.registry,
        health: [{ name: 'ping', check: () => undefined }],
        ready: [
          { name: 'informers', check: () => (this.synced() ? undefined : 'caches not synced') },
          { name: 'controllers', check: () => (this.#leading && !this.#controllersRunning ? 'leading, controllers not running yet' : undefined) },
          { name: 'shutdown', check: () => (this.#stopping === undefined ? undefined : 'shutting down') },
        ],
      });
      this.log.info({ url: this.#http.url }, 'serving /metrics, /healthz and /readyz');
    }
    for (const informer of this.#informers.values()) informer.start();
    if (this.#elector === undefined) void this.#lead(this.#stopSignal.signal);
    else this.#elector.start();
    this.log.info({ identity: this.identity, controllers: this.#controllers.map((c) => c.definition.name), informers: [...this.#informers.values()].map((i) => resourceName(i.resource)) }, 'manager started');
  }

  /**
   * Graceful stop. `releaseLease: false` keeps the Lease as a crashed process would (tests of
   * failover); the other candidates then wait for it to expire.
   */
  stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info('manager stopping');
      this.#stopSignal.abort();
      // Controllers drain first, while the elector still renews the Lease: nobody else can
      // lead before the last reconcile here ended. Then the Lease is released.
      // Each step runs even if one before failed: a stuck lease must not keep the port open.
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (err: unknown) {
          this.log.error({ err, step: what }, 'shutdown step failed');
        }
      };
      await step('controllers', () => this.#stopControllers(false));
      await step('leader election', async () => this.#elector?.stop({ release: options.releaseLease ?? true }));
      await step('events', () => this.recorder.close());
      await step('informers', () => Promise.all([...this.#informers.values()].map((i) => i.stop())));
      await step('http', async () => this.#http?.close());
      await step('client', () => this.client.close());
      this.#signalHandlers?.();
      this.log.info('manager stopped');
    })();
    return this.#stopping;
  }

  /** SIGTERM and SIGINT stop the manager gracefully; resolves the exit code once stopped. */
  stopOnSignals(): Promise<number> {
    return new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        this.log.info({ signal }, 'signal received');
        this.stop().then(() => resolve(0), (err: unknown) => {
          this.log.error({ err }, 'shutdown failed');
          resolve(1);
        });
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      this.#signalHandlers = () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      };
    });
  }

  async #lead(signal: AbortSignal): Promise<void> {
    this.#leading = true;
    const controllers = this.#controllers;
    const informers = new Set(controllers.flatMap((c) => c.informers));
    const synced = await Promise.all([...informers].map((i) => i.waitForSync(signal)));
    if (signal.aborted || this.#stopping !== undefined || !synced.every(Boolean)) return;
    for (const c of controllers) c.start();
    this.#controllersRunning = true;
  }

  /** Stops the controllers: draining on a graceful stop, aborting at once when leadership was lost. */
  async #stopControllers(lost: boolean): Promise<void> {
    this.#leading = false;
    this.#controllersRunning = false;
    const shutdown = this.#o.shutdown ?? {};
    const options = lost ? { drain: false, timeoutMs: 0 } : { drain: shutdown.drain ?? true, timeoutMs: shutdown.timeoutMs ?? 30_000 };
    await Promise.all(this.#controllers.map((c) => c.stop(options)));
  }

  #findInformer(resource: ResourceType, namespace: string | undefined): Informer<KubeObject> | undefined {
    let best: Informer<KubeObject> | undefined;
    for (const informer of this.#informers.values()) {
      if (resourceName(informer.resource) !== resourceName(resource)) continue;
      // Only informers without selectors hold every object of their scope.
      if (informer.labelSelector !== undefined || informer.fieldSelector !== undefined) continue;
      if (informer.namespace === undefined) return informer;
      if (informer.namespace === namespace) best = informer;
    }
    return best;
  }

  #cachedInformer<O extends KubeObject>(resource: ResourceType<O>, namespace: string | undefined): Informer<O> {
    const informer = this.#findInformer(resource, namespace);
    if (informer === undefined) {
      throw new RuntimeError('NoInformer', `${resourceName(resource)}${namespace === undefined ? '' : ` in ${namespace}`} is not cached: add it to a controller's owns/watches or call manager.informer() before start, or read it with ctx.client`);
    }
    return informer as unknown as Informer<O>;
  }
}
