// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
//
// - A candidate takes the Lease when nobody holds it, the holder released it (empty holder), or
//   the holder has not renewed for leaseDuration, measured on the candidate's own monotonic clock
//   from when it last saw the record change, so clocks of different machines never compare.
// - The leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
//   (renewDeadline < leaseDuration, so it stops before anyone else may start).
// - Every write is a PUT with the resourceVersion read just before: two candidates racing for one
//   Lease cannot both win (the loser gets 409).
// - On graceful stop the leader stops its work first (onStoppedLeading is awaited), then releases
//   the Lease (empty holder) so that a standby takes over at once instead of after leaseDuration.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { sleep } from './backoff.ts';
import type { KubeClient } from './client.ts';
import { microTime } from './conditions.ts';
import { deepEqual } from './equal.ts';
import { RuntimeError, errorMessage, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import { silentLogger } from './logger.ts';
import { LEASES, resourcePath } from './resources.ts';
import type { Lease } from './types.ts';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  /** Default: pod name (POD_NAME, else the host name) + a random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderElectorOptions extends LeaderElectionConfig {
  client: KubeClient;
  logger?: Logger;
  /** Leading starts; `signal` aborts when it ends. Not awaited: the elector keeps renewing meanwhile. */
  onStartedLeading(signal: AbortSignal): void;
  /** Leading ended (lost, or stopping): awaited before the Lease is released. */
  onStoppedLeading(): Promise<void> | void;
  /** Someone (maybe this candidate) holds the Lease now. */
  onNewLeader?(identity: string): void;
}

export function defaultIdentity(): string {
  return `${process.env['POD_NAME'] ?? hostname()}_${randomBytes(4).toString('hex')}`;
}

export class LeaderElector {
  readonly identity: string;
  readonly #o: LeaderElectorOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #release = true;
  #leading = false;
  #observed: Lease | undefined;
  #observedAt = 0;
  #leader: string | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.identity = options.identity ?? defaultIdentity();
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs && this.#renewDeadlineMs > this.#retryPeriodMs * 1.2 && this.#retryPeriodMs > 0)) {
      throw new RuntimeError('InvalidOptions', `leader election needs leaseDuration > renewDeadline > 1.2 × retryPeriod > 0 (got ${this.#leaseDurationMs}, ${this.#renewDeadlineMs}, ${this.#retryPeriodMs} ms)`);
    }
    if (this.#leaseDurationMs % 1000 !== 0) {
      throw new RuntimeError('InvalidOptions', `leaseDurationMs must be whole seconds (the Lease stores seconds), got ${this.#leaseDurationMs}`);
    }
    this.#log = (options.logger ?? silentLogger()).child({ lease: `${options.namespace}/${options.name}`, identity: this.identity });
  }

  /** A method, not a property read: TypeScript would narrow a property read across awaits. */
  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last seen on the Lease. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** Starts campaigning (idempotent). Leading again after a loss is automatic until stop(). */
  start(): void {
    this.#running ??= this.#run().catch((err: unknown) => {
      this.#log.error({ err }, 'leader election stopped on an unexpected error');
    });
  }

  /** Stops campaigning: if leading, stops leading and (by default) releases the Lease. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.#release = options.release ?? true;
    this.#stop.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#stopped()) {
      if (!(await this.#acquire())) return;
      this.#leading = true;
      this.#log.info('started leading');
      const term = new AbortController();
      try {
        this.#o.onStartedLeading(term.signal);
      } catch (err: unknown) {
        this.#log.error({ err }, 'onStartedLeading threw');
      }
      await this.#renewUntilLost();
      this.#leading = false;
      term.abort();
      this.#log.info(this.#stopped() ? 'stopped leading: shutting down' : 'stopped leading: lease lost');
      try {
        await this.#o.onStoppedLeading();
      } catch (err: unknown) {
        this.#log.error({ err }, 'onStoppedLeading threw');
      }
      if (this.#stopped() && this.#release) await this.#releaseLease();
    }
  }

  /** Tries every retryPeriod (jittered) until it holds the Lease; false when stopped first. */
  async #acquire(): Promise<boolean> {
    while (!this.#stopped()) {
      try {
        if (await this.#tryAcquireOrRenew(this.#retryPeriodMs)) return true;
      } catch (err: unknown) {
        this.#log.warn({ err: errorMessage(err) }, 'could not acquire the lease');
      }
      await sleep(this.#retryPeriodMs * (1 + 0.2 * Math.random()), this.#stop.signal);
    }
    return false;
  }

  /** Renews every retryPeriod; returns once a renewDeadline passed without a renewal, or on stop. */
  async #renewUntilLost(): Promise<void> {
    let renewedAt = performance.now();
    while (!this.#stopped()) {
      await sleep(this.#retryPeriodMs, this.#stop.signal);
      if (this.#stopped()) return;
      const left = this.#renewDeadlineMs - (performance.now() - renewedAt);
      try {
        if (left > 0 && (await this.#tryAcquireOrRenew(left))) {
          renewedAt = performance.now();
          continue;
        }
      } catch (err: unknown) {
        this.#log.warn({ err: errorMessage(err) }, 'could not renew the lease');
      }
      if (performance.now() - renewedAt >= this.#renewDeadlineMs) return;
    }
  }

  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))]);
    const { namespace, name } = this.#o;
    const now = new Date();
    const leaseDurationSeconds = this.#leaseDurationMs / 1000;
    let lease: Lease | undefined;
    try {
      lease = await this.#o.client.request<Lease>({ method: 'GET', path: resourcePath(LEASES, { namespace, name }), signal });
    } catch (err: unknown) {
      if (!isNotFound(err)) throw err;
    }
    if (lease === undefined) {
      const fresh: Lease = {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
        spec: { holderIdentity: this.identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        this.#observe(await this.#o.client.request<Lease>({ method: 'POST', path: resourcePath(LEASES, { namespace }), body: fresh, signal }));
        return true;
      } catch (err: unknown) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    }
    this.#observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldFor = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== this.identity && performance.now() < this.#observedAt + heldFor) return false;
    const mine = holder === this.identity;
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds,
        acquireTime: mine && spec.acquireTime !== undefined ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.#observe(await this.#o.client.request<Lease>({ method: 'PUT', path: resourcePath(LEASES, { namespace, name }), body: next, signal }));
      return true;
    } catch (err: unknown) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Remembers the record and, if it changed, when this candidate saw it change. */
  #observe(lease: Lease): void {
    if (!deepEqual(lease.spec, this.#observed?.spec)) this.#observedAt = performance.now();
    this.#observed = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== '' && holder !== this.#leader) {
      this.#leader = holder;
      this.#log.info({ leader: holder }, 'new leader');
      this.#o.onNewLeader?.(holder);
    }
  }

  /** Gives the Lease up if this candidate still holds it. */
  async #releaseLease(): Promise<void> {
    const { namespace, name } = this.#o;
    const path = resourcePath(LEASES, { namespace, name });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await this.#o.client.request<Lease>({ method: 'GET', path, signal: AbortSignal.timeout(this.#retryPeriodMs * 2) });
        if (lease.spec?.holderIdentity !== this.identity) return;
        const now = microTime(new Date());
        await this.#o.client.request<Lease>({
          method: 'PUT', path, signal: AbortSignal.timeout(this.#retryPeriodMs * 2),
          body: { ...lease, spec: { leaseTransitions: lease.spec.leaseTransitions ?? 0, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
        });
        this.#log.info('released the lease');
        return;
      } catch (err: unknown) {
        if (!isConflict(err)) {
          this.#log.warn({ err: errorMessage(err) }, 'could not release the lease');
          return;
        }
      }
    }
  }
}
