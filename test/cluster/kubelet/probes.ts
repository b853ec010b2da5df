// Startup, liveness and readiness probing of one running container instance, with the kubelet's
// rules: liveness and readiness wait for the startup probe; each probe waits initialDelaySeconds
// from the container's start, runs every periodSeconds with timeoutSeconds, and flips its result
// only after successThreshold / failureThreshold consecutive outcomes. Readiness starts as
// failure, liveness as success. A startup or liveness failure asks for the container to be
// killed, and the instance's probing stops (a restarted container gets a new ContainerProbes).
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import type { HandlerOutcome } from './handlers.ts';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeState {
  result: ProbeResult;
  /** The last raw outcome and how many times in a row it came. */
  last: boolean | undefined;
  run: number;
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown', last: undefined, run: 0 };
}

/** The state after one more probe outcome. */
export function nextProbeState(state: ProbeState, ok: boolean, probe: Pick<V1Probe, 'successThreshold' | 'failureThreshold'>): ProbeState {
  const run = state.last === ok ? state.run + 1 : 1;
  const threshold = ok ? (probe.successThreshold ?? 1) : (probe.failureThreshold ?? 3);
  return { result: run >= threshold ? (ok ? 'success' : 'failure') : state.result, last: ok, run };
}

export interface ProbeCallbacks {
  run(probe: V1Probe, kind: ProbeKind): Promise<HandlerOutcome>;
  /** `started` or `ready` changed: the pod's status must be recomputed. */
  changed(): void;
  /** One failed probe, for an Unhealthy event. */
  unhealthy(kind: ProbeKind, message: string): void;
  /** A startup or liveness probe reached its failure threshold: kill the container. */
  failed(kind: 'startup' | 'liveness', message: string): void;
}

export class ContainerProbes {
  readonly #container: Pick<V1Container, 'startupProbe' | 'livenessProbe' | 'readinessProbe'>;
  readonly #startedAt: number;
  readonly #callbacks: ProbeCallbacks;
  readonly #states = new Map<ProbeKind, ProbeState>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #started: boolean;

  constructor(container: Pick<V1Container, 'startupProbe' | 'livenessProbe' | 'readinessProbe'>, startedAt: number, callbacks: ProbeCallbacks) {
    this.#container = container;
    this.#startedAt = startedAt;
    this.#callbacks = callbacks;
    this.#started = container.startupProbe === undefined;
    for (const kind of ['startup', 'liveness', 'readiness'] as const) this.#states.set(kind, initialProbeState(kind));
    if (container.startupProbe !== undefined) this.#schedule('startup', container.startupProbe);
    else this.#startAfterStartup();
  }

  /** The startup probe has succeeded (or there is none). */
  get started(): boolean {
    return this.#started;
  }

  /** Started and, if there is a readiness probe, it succeeds. */
  get ready(): boolean {
    if (!this.#started) return false;
    return this.#container.readinessProbe === undefined || this.#states.get('readiness')?.result === 'success';
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** Re-read after an await (stop() may have run meanwhile). */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #startAfterStartup(): void {
    if (this.#container.livenessProbe !== undefined) this.#schedule('liveness', this.#container.livenessProbe);
    if (this.#container.readinessProbe !== undefined) this.#schedule('readiness', this.#container.readinessProbe);
  }

  #schedule(kind: ProbeKind, probe: V1Probe, first = true): void {
    if (this.#stopped) return;
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const delay = first ? Math.max(0, this.#startedAt + (probe.initialDelaySeconds ?? 0) * 1000 - Date.now()) : periodMs;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#probeOnce(kind, probe);
    }, delay);
    this.#timers.add(timer);
  }

  async #probeOnce(kind: ProbeKind, probe: V1Probe): Promise<void> {
    if (this.#stopped) return;
    let outcome: HandlerOutcome;
    try {
      outcome = await this.#callbacks.run(probe, kind);
    } catch (err: unknown) {
      outcome = { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    if (this.#isStopped()) return;
    const before = this.#states.get(kind) ?? initialProbeState(kind);
    const after = nextProbeState(before, outcome.ok, probe);
    this.#states.set(kind, after);
    if (!outcome.ok) this.#callbacks.unhealthy(kind, outcome.message ?? 'probe failed');

    if (kind === 'startup') {
      if (after.result === 'success') {
        this.#started = true;
        this.#callbacks.changed();
        this.#startAfterStartup();
        return;
      }
      if (after.result === 'failure') {
        this.stop();
        this.#callbacks.failed('startup', `Container failed startup probe, will be restarted`);
        return;
      }
    } else if (kind === 'liveness' && after.result === 'failure') {
      this.stop();
      this.#callbacks.failed('liveness', `Container failed liveness probe, will be restarted`);
      return;
    } else if (kind === 'readiness' && after.result !== before.result) {
      this.#callbacks.changed();
    }
    this.#schedule(kind, probe, false);
  }
}
