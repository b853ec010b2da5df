// One application-consistent checkpoint: the pre hooks in order (quiesce: flush, freeze), a
// checkpoint tagged app-consistent, then the post hooks (resume), which run whatever happened
// before them, so an application a pre hook froze is always thawed. A failed hook with onError
// Fail stops the pre hooks and no checkpoint is taken; with Continue the checkpoint is taken,
// tagged as not app-consistent. The crash-consistent checkpoints go on every few seconds anyway.
import type { ExecOutcome } from '../../../runtime/exec.ts';
import type { ExecTarget, HookSpec } from './targets.ts';

export const APP_CONSISTENT_TAG = 'app-consistent';
/** Tags are at most 128 characters (the VRA and status.checkpoints). */
const MAX_TAG = 128;
/** What of a failed command's output goes into the message. */
const OUTPUT_IN_MESSAGE = 300;

export type AppConsistentResult = 'Succeeded' | 'Degraded' | 'HookFailed' | 'CheckpointFailed';

export interface HookFailure {
  stage: 'pre' | 'post';
  hook: string;
  /** The pod it failed in; undefined when it could not run anywhere. */
  pod?: string | undefined;
  message: string;
}

export interface AppConsistentOutcome {
  /**
   * Succeeded: tagged app-consistent, every hook passed. Degraded: a checkpoint was taken but a
   * hook failed (onError Continue, or a post hook). HookFailed: a pre hook with onError Fail
   * failed, no checkpoint. CheckpointFailed: the hooks passed, the checkpoint could not be taken.
   */
  result: AppConsistentResult;
  /** The run was cut short by its signal (no checkpoint): its outcome is for no status. */
  abandoned?: boolean;
  startTime: Date;
  endTime: Date;
  checkpoint?: { seq: number; tag: string } | undefined;
  failures: HookFailure[];
  /** For people: what was taken, and each failure. */
  message: string;
}

export interface RunDeps {
  targets(hook: HookSpec): ExecTarget[] | { problem: string };
  exec(target: ExecTarget, command: readonly string[], timeoutMs: number): Promise<ExecOutcome>;
  /** A checkpoint with this tag now; resolves with its seq once the recovery site holds it. */
  checkpoint(tag: string): Promise<number>;
  now(): Date;
  /**
   * Aborted when this process stops running the VPG controller (lost leadership, shutdown): the
   * run starts no further pre hook and takes no checkpoint, as the next leader runs one of its
   * own, but its post hooks still run, so nothing a pre hook froze stays frozen.
   */
  signal?: AbortSignal | undefined;
}

export interface HooksSpec {
  preCheckpoint?: HookSpec[] | undefined;
  postCheckpoint?: HookSpec[] | undefined;
}

/** Runs a hook in each of its pods, in turn; the failures (none: it passed). */
async function runHook(stage: 'pre' | 'post', hook: HookSpec, deps: RunDeps): Promise<HookFailure[]> {
  const targets = deps.targets(hook);
  if (!Array.isArray(targets)) return [{ stage, hook: hook.name, message: targets.problem }];
  const failures: HookFailure[] = [];
  for (const t of targets) {
    const out = await deps.exec(t, hook.command, hook.timeoutSeconds * 1000);
    if (out.error === undefined) continue;
    const tail = out.output.trim().slice(-OUTPUT_IN_MESSAGE);
    failures.push({ stage, hook: hook.name, pod: t.pod, message: tail === '' ? out.error : `${out.error}: ${tail}` });
  }
  return failures;
}

export function failureText(f: HookFailure): string {
  return `${f.stage} hook ${f.hook}${f.pod === undefined ? '' : ` in pod ${f.pod}`} failed: ${f.message}`;
}

export async function runAppConsistent(hooks: HooksSpec, deps: RunDeps): Promise<AppConsistentOutcome> {
  const startTime = deps.now();
  const failures: HookFailure[] = [];
  let stopped: HookSpec | undefined;
  let abandoned = false;
  for (const hook of hooks.preCheckpoint ?? []) {
    if (deps.signal?.aborted === true) {
      abandoned = true;
      break;
    }
    const failed = await runHook('pre', hook, deps);
    failures.push(...failed);
    if (failed.length > 0 && hook.onError === 'Fail') {
      stopped = hook;
      break;
    }
  }
  let checkpoint: AppConsistentOutcome['checkpoint'];
  let checkpointError: string | undefined;
  abandoned ||= deps.signal?.aborted === true;
  if (stopped === undefined && !abandoned) {
    const tag = failures.length === 0 ? APP_CONSISTENT_TAG : notAppConsistentTag(failures);
    try {
      checkpoint = { seq: await deps.checkpoint(tag), tag };
    } catch (err: unknown) {
      checkpointError = err instanceof Error ? err.message : String(err);
    }
  }
  for (const hook of hooks.postCheckpoint ?? []) failures.push(...await runHook('post', hook, deps));

  const result: AppConsistentResult = checkpoint !== undefined ? (failures.length === 0 ? 'Succeeded' : 'Degraded')
    : stopped !== undefined ? 'HookFailed' : 'CheckpointFailed';
  const taken = checkpoint === undefined
    ? abandoned ? 'no checkpoint taken: the operator stopped running this VPG\'s controller (lost leadership or shut down)'
    : stopped !== undefined ? `no checkpoint taken (pre hook ${stopped.name} has onError Fail)` : `no checkpoint taken: ${checkpointError ?? 'unknown error'}`
    : `checkpoint ${checkpoint.seq} tagged ${JSON.stringify(checkpoint.tag)}`;
  return {
    result, startTime, endTime: deps.now(), checkpoint, failures, message: [taken, ...failures.map(failureText)].join('; '),
    ...(abandoned && { abandoned: true }),
  };
}

function notAppConsistentTag(failures: readonly HookFailure[]): string {
  const names = [...new Set(failures.map((f) => f.hook))].join(', ');
  const tag = `not app-consistent: ${names} failed`;
  return tag.length <= MAX_TAG ? tag : `${tag.slice(0, MAX_TAG - 1)}…`;
}
