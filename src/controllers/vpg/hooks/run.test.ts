import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecOutcome } from '../../../runtime/exec.ts';
import { runAppConsistent, type HooksSpec, type RunDeps } from './run.ts';
import type { HookSpec } from './targets.ts';

const hook = (name: string, onError: 'Fail' | 'Continue' = 'Fail', kind: 'Deployment' | 'StatefulSet' = 'Deployment'): HookSpec => ({
  name, workload: { kind, name: 'db' }, command: [name], timeoutSeconds: 5, onError,
});

/** Records every step in order; `fail` names the commands that exit 1, `pods` how many pods a StatefulSet has. */
function deps(o: { fail?: string[]; noPods?: string[]; checkpointError?: string; onExec?: (command: string) => void } = {}): RunDeps & { steps: string[] } {
  const steps: string[] = [];
  return {
    steps,
    targets: (h) => (o.noPods?.includes(h.name) === true ? { problem: 'Deployment ns/db has no Ready pod' }
      : (h.workload.kind === 'StatefulSet' ? ['db-0', 'db-1'] : ['db-7']).map((pod) => ({ namespace: 'ns', pod, container: 'main' }))),
    exec: (t, command, timeoutMs): Promise<ExecOutcome> => {
      steps.push(`${command.join(' ')}@${t.pod}/${t.container} ${timeoutMs}ms`);
      o.onExec?.(command[0] ?? '');
      return Promise.resolve(o.fail?.includes(command[0] ?? '') === true ? { exitCode: 1, output: 'disk full\n', error: 'exited with 1' } : { exitCode: 0, output: '' });
    },
    checkpoint: (tag) => {
      steps.push(`checkpoint ${tag}`);
      return o.checkpointError === undefined ? Promise.resolve(42) : Promise.reject(new Error(o.checkpointError));
    },
    now: () => new Date('2026-11-28T10:00:00Z'),
  };
}

const spec = (pre: HookSpec[], post: HookSpec[]): HooksSpec => ({ preCheckpoint: pre, postCheckpoint: post });

describe('runAppConsistent', () => {
  it('runs the pre hooks in order, takes a checkpoint tagged app-consistent, then the post hooks', async () => {
    const d = deps();
    const out = await runAppConsistent(spec([hook('flush'), hook('freeze', 'Fail', 'StatefulSet')], [hook('thaw', 'Fail', 'StatefulSet')]), d);
    assert.deepEqual(d.steps, ['flush@db-7/main 5000ms', 'freeze@db-0/main 5000ms', 'freeze@db-1/main 5000ms', 'checkpoint app-consistent', 'thaw@db-0/main 5000ms', 'thaw@db-1/main 5000ms']);
    assert.equal(out.result, 'Succeeded');
    assert.deepEqual(out.checkpoint, { seq: 42, tag: 'app-consistent' });
    assert.equal(out.message, 'checkpoint 42 tagged "app-consistent"');
  });

  it('stops at a failed pre hook with onError Fail: no checkpoint, the post hooks still run', async () => {
    const d = deps({ fail: ['freeze'] });
    const out = await runAppConsistent(spec([hook('freeze'), hook('flush')], [hook('thaw')]), d);
    assert.deepEqual(d.steps, ['freeze@db-7/main 5000ms', 'thaw@db-7/main 5000ms']);
    assert.equal(out.result, 'HookFailed');
    assert.equal(out.checkpoint, undefined);
    assert.equal(out.message, 'no checkpoint taken (pre hook freeze has onError Fail); pre hook freeze in pod db-7 failed: exited with 1: disk full');
  });

  it('takes the checkpoint after a failed hook with onError Continue, tagged as not app-consistent', async () => {
    const d = deps({ fail: ['flush'] });
    const out = await runAppConsistent(spec([hook('flush', 'Continue'), hook('freeze')], []), d);
    assert.deepEqual(d.steps, ['flush@db-7/main 5000ms', 'freeze@db-7/main 5000ms', 'checkpoint not app-consistent: flush failed']);
    assert.equal(out.result, 'Degraded');
    assert.deepEqual(out.checkpoint, { seq: 42, tag: 'not app-consistent: flush failed' });
  });

  it('abandoned mid-run (the controller stopped): no further pre hook, no checkpoint, but the post hooks run', async () => {
    const controller = new AbortController();
    // Leadership goes while the first pre hook runs.
    const d = deps({ onExec: (command) => command === 'flush' && controller.abort() });
    const out = await runAppConsistent(spec([hook('flush'), hook('freeze')], [hook('thaw')]), { ...d, signal: controller.signal });
    assert.deepEqual(d.steps, ['flush@db-7/main 5000ms', 'thaw@db-7/main 5000ms']);
    assert.equal(out.abandoned, true);
    assert.equal(out.checkpoint, undefined);
    assert.match(out.message, /^no checkpoint taken: the operator stopped running this VPG's controller/);

    // Stopped after the last pre hook: still no checkpoint.
    const lateController = new AbortController();
    const late = deps({ onExec: (command) => command === 'freeze' && lateController.abort() });
    const lateOut = await runAppConsistent(spec([hook('freeze')], [hook('thaw')]), { ...late, signal: lateController.signal });
    assert.deepEqual(late.steps, ['freeze@db-7/main 5000ms', 'thaw@db-7/main 5000ms']);
    assert.equal(lateOut.abandoned, true);

    // A signal that never fires changes nothing.
    const calm = deps();
    const calmOut = await runAppConsistent(spec([hook('freeze')], [hook('thaw')]), { ...calm, signal: new AbortController().signal });
    assert.equal(calmOut.result, 'Succeeded');
    assert.equal(calmOut.abandoned, undefined);
  });

  it('reports a hook that has nowhere to run, and a failed post hook, and a checkpoint that could not be taken', async () => {
    const nowhere = await runAppConsistent(spec([hook('flush')], []), deps({ noPods: ['flush'] }));
    assert.equal(nowhere.result, 'HookFailed');
    assert.match(nowhere.message, /pre hook flush failed: Deployment ns\/db has no Ready pod$/);

    const post = await runAppConsistent(spec([], [hook('thaw')]), deps({ fail: ['thaw'] }));
    assert.equal(post.result, 'Degraded');
    assert.deepEqual(post.checkpoint, { seq: 42, tag: 'app-consistent' }, 'the checkpoint was taken before the post hook failed');
    assert.match(post.message, /post hook thaw in pod db-7 failed/);

    const d = deps({ checkpointError: 'stream s has no volume in sync to checkpoint yet' });
    const lost = await runAppConsistent(spec([hook('flush')], [hook('thaw')]), d);
    assert.equal(lost.result, 'CheckpointFailed');
    assert.deepEqual(d.steps.at(-1), 'thaw@db-7/main 5000ms', 'the application is resumed');
    assert.equal(lost.message, 'no checkpoint taken: stream s has no volume in sync to checkpoint yet');
  });

  it('keeps a tag naming failed hooks within 128 characters', async () => {
    const many = Array.from({ length: 8 }, (_, i) => hook(`a-rather-long-hook-name-${i}`, 'Continue'));
    const out = await runAppConsistent(spec(many, []), deps({ fail: many.map((h) => h.name) }));
    const tag = out.checkpoint?.tag ?? '';
    assert.equal(tag.length, 128);
    assert.match(tag, /^not app-consistent: a-rather-long-hook-name-0, .*…$/);
  });
});
