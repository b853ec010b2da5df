// Application-consistent checkpoints for the VPG reconcile: starts a run when one is due and
// hands its outcome to the status once it ends. A run takes as long as its hooks (up to 600 s
// each), so it goes on in the background, one per VPG, while the reconciles go on; its outcome
// waits here until the status has it. An operator restarted mid-run starts over when the
// schedule says (the status still has the run before).
import type { CustomObject, ReconcileContext } from '../../../runtime/index.ts';
import { execInPod } from '../../../runtime/exec.ts';
import type { VraClient, VraEndpoint } from '../vra-client.ts';
import { runAppConsistent } from './run.ts';
import { appConsistentStatus, dueInMs, hasHooks, hooksHash, type AppConsistentStatus, type HooksSchedule } from './schedule.ts';
import { hookTargets } from './targets.ts';

/** The checkpoint waits for the next capture pass and the journal's commit at the recovery site. */
const CHECKPOINT_TIMEOUT_MS = 120_000;
/** How often a run that waits for a workload's pods looks again (pod events bring reconciles too). */
const WAIT_FOR_PODS_MS = 5000;
/** The Event of each result (docs/troubleshooting.md explains them). */
const EVENT_REASONS = { Succeeded: 'AppConsistentCheckpoint', Degraded: 'Degraded', HookFailed: 'HookFailed', CheckpointFailed: 'CheckpointFailed' } as const;

interface Run {
  done: boolean;
  outcome?: AppConsistentStatus;
}

export class HookRunner {
  readonly #runs = new Map<string, Run>();

  /**
   * The status.appConsistent to write now: a finished run's, or the previous one; and in how many
   * ms the next run is due (undefined: no hooks, or one running). Starts a run when it is due.
   */
  step(i: {
    ctx: ReconcileContext<CustomObject>;
    obj: CustomObject;
    namespace: string;
    streamId: string;
    hooks: HooksSchedule | undefined;
    previous: AppConsistentStatus | undefined;
    /** Protection runs (no operation, not failed over, the source answers): hooks may run. */
    protecting: boolean;
    vra: { client: VraClient; source: VraEndpoint } | undefined;
    now: Date;
  }): { status: AppConsistentStatus | undefined; dueInMs: number | undefined; waiting?: string } {
    const run = this.#runs.get(i.streamId);
    if (!hasHooks(i.hooks)) {
      if (run?.done === true) this.#runs.delete(i.streamId);
      return { status: undefined, dueInMs: undefined };
    }
    if (run !== undefined && !run.done) return { status: i.previous, dueInMs: undefined };
    if (run?.outcome !== undefined) {
      // Kept until the status holds it (a write can fail and be retried).
      if (i.previous?.startTime === run.outcome.startTime) this.#runs.delete(i.streamId);
      else return { status: run.outcome, dueInMs: undefined };
    }
    const due = dueInMs(i.hooks, i.previous, i.now);
    if (due === undefined || due > 0 || !i.protecting || i.vra === undefined) return { status: i.previous, dueInMs: due };
    // A workload whose pods are starting: the run waits for them (a failure would only say so).
    for (const hook of [...i.hooks.preCheckpoint ?? [], ...i.hooks.postCheckpoint ?? []]) {
      const targets = hookTargets(i.ctx.cache, i.namespace, hook);
      if (!Array.isArray(targets) && targets.starting === true) return { status: i.previous, dueInMs: WAIT_FOR_PODS_MS, waiting: targets.problem };
    }
    this.#start(i.ctx, i.obj, i.namespace, i.streamId, i.hooks, i.vra);
    return { status: i.previous, dueInMs: undefined };
  }

  /** Drops what is kept of a VPG's runs (it is being deleted); a run still going on ends unrecorded. */
  forget(streamId: string): void {
    this.#runs.delete(streamId);
  }

  /** Drops every run (the controller stopped): a new leader's runner starts from the statuses. */
  clear(): void {
    this.#runs.clear();
  }

  #start(ctx: ReconcileContext<CustomObject>, obj: CustomObject, namespace: string, streamId: string, hooks: HooksSchedule, vra: { client: VraClient; source: VraEndpoint }): void {
    const run: Run = { done: false };
    this.#runs.set(streamId, run);
    let asked: Date | undefined;
    void runAppConsistent(hooks, {
      targets: (hook) => hookTargets(ctx.cache, namespace, hook),
      exec: (target, command, timeoutMs) => execInPod(ctx.client, target, command, timeoutMs),
      checkpoint: async (tag) => {
        asked = new Date();
        const cp = await vra.client.post<{ seq: number }>(vra.source, `/v1/streams/${encodeURIComponent(streamId)}/checkpoints`, { tag }, CHECKPOINT_TIMEOUT_MS);
        return cp.seq;
      },
      now: () => new Date(),
      signal: ctx.signal,
    }).then((outcome) => {
      if (outcome.abandoned === true) {
        // Not the leader any more: the next one runs the hooks when due and writes the status.
        ctx.log.info({ vpg: `${namespace}/${obj.metadata?.name ?? ''}` }, 'application-consistent checkpoint run abandoned: controller stopped; post hooks ran');
        if (this.#runs.get(streamId) === run) this.#runs.delete(streamId);
        return;
      }
      run.outcome = appConsistentStatus(outcome, hooks, asked);
      const type = outcome.result === 'Succeeded' ? 'Normal' : 'Warning';
      ctx.event(obj, { type, reason: EVENT_REASONS[outcome.result], action: 'Checkpoint', note: run.outcome.message });
    }, (err: unknown) => {
      // runAppConsistent catches what its steps throw; this is a fault of ours: reported, retried on schedule.
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.error({ err, vpg: `${namespace}/${obj.metadata?.name ?? ''}` }, 'application-consistent checkpoint run failed');
      run.outcome = { startTime: new Date().toISOString(), result: 'CheckpointFailed', message: `the run failed: ${message}`.slice(0, 1024), hooksHash: hooksHash(hooks) };
    }).finally(() => {
      run.done = true;
    });
  }
}
