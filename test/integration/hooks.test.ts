// Application-consistent checkpoints (spec.hooks) end to end: the operator runs each hook's
// command in the workload's pod through the API server's pods/exec (the kubelet runs it inside the
// container), then has the protected VRA take a checkpoint tagged app-consistent, then runs the
// post hooks. The example VPG's own hook (sync) runs as soon as protection settles; hooks that
// write into the protected volume show what ran and in which order; a failing hook with onError
// Fail takes nothing (and still thaws), one with Continue takes a checkpoint tagged as not
// app-consistent; without hooks the status and the condition go.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../cluster/net.ts';
import { VPGS } from '../../src/controllers/resources.ts';
import type { VPGStatus } from '../../src/crds/vpg.ts';
import { EVENTS, findStatusCondition as findCondition, type Condition } from '../../src/runtime/index.ts';
import { startRecoveryEnv, type RecoveryEnv } from './support/recovery-env.ts';

type AppConsistent = NonNullable<VPGStatus['appConsistent']>;

const findStatusCondition = (conditions: VPGStatus['conditions'], type: string): Condition | undefined => findCondition(conditions as Condition[] | undefined, type);

const hook = (name: string, script: string, onError: 'Fail' | 'Continue' = 'Fail'): Record<string, unknown> =>
  ({ name, workload: { kind: 'Deployment', name: 'web' }, command: ['sh', '-c', script], timeoutSeconds: 20, onError });

describe('VPG hooks: application-consistent checkpoints', { timeout: 600_000 }, () => {
  let env: RecoveryEnv;
  let data: string;

  before(async () => {
    env = await startRecoveryEnv();
    data = await env.volumeDir('app-data', 'acme-prod');
  });
  after(async () => {
    await env.stop();
  });

  /** Waits for a run that started after `since` and returns what the status says of it. */
  const nextRun = async (since: string | undefined): Promise<AppConsistent> => {
    let last: AppConsistent | undefined;
    await waitFor(async () => {
      last = (await env.vpg()).status?.appConsistent;
      return last !== undefined && last.startTime !== since;
    }, { what: 'an application-consistent checkpoint run', timeoutMs: 120_000, intervalMs: 500 });
    return last as AppConsistent;
  };
  const setHooks = (hooks: unknown): Promise<unknown> => env.admin.mergePatch(VPGS, 'web', 'acme-prod', { spec: { hooks } });
  const exists = (name: string): Promise<boolean> => stat(join(data, name)).then(() => true, () => false);

  it('runs the example\'s hook once protection has settled and tags the checkpoint app-consistent', async () => {
    // The web pod may still be starting when protection settles: the first run waits for it.
    const run = await nextRun(undefined);
    assert.equal(run.result, 'Succeeded', run.message);
    assert.equal(run.checkpoint?.tag, 'app-consistent');
    const vpg = await env.vpg();
    const condition = findStatusCondition(vpg.status?.conditions, 'AppConsistent');
    assert.deepEqual([condition?.status, condition?.reason], ['True', 'Succeeded']);
    // The recovery site holds it, and the status lists it among the tagged checkpoints.
    const { checkpoints } = await env.onRecoveryVra<{ checkpoints: { seq: number; tag: string }[] }>('checkpoints');
    assert.ok(checkpoints.some((c) => String(c.seq) === run.checkpoint?.id && c.tag === 'app-consistent'), JSON.stringify(checkpoints));
    await waitFor(async () => ((await env.vpg()).status?.checkpoints?.tagged ?? []).some((c) => c.id === run.checkpoint?.id),
      { what: 'the app-consistent checkpoint in status.checkpoints.tagged', timeoutMs: 30_000, intervalMs: 500 });
  });

  it('runs changed hooks at once: pre hooks in order inside the pod, the checkpoint, then the post hooks', async () => {
    const before = (await env.vpg()).status?.appConsistent?.startTime;
    await setHooks({
      intervalMinutes: 60,
      preCheckpoint: [
        hook('freeze', 'echo "$HOSTNAME" > /data/frozen'),
        hook('note', 'test -f /data/frozen && date +%s%N > /data/pre-ran'),
      ],
      postCheckpoint: [hook('thaw', 'rm /data/frozen && echo thawed > /data/post-ran')],
    });
    const run = await nextRun(before);
    assert.equal(run.result, 'Succeeded', run.message);
    // The commands ran in the web pod (its hostname), in order, and the post hook undid the pre.
    assert.equal(await exists('frozen'), false, 'the post hook thawed');
    assert.ok(await exists('pre-ran'), 'the second pre hook saw the first one\'s file');
    assert.equal((await readFile(join(data, 'post-ran'), 'utf8')).trim(), 'thawed');
    const webPod = (await env.cluster.kubectl(['get', 'pods', '-n', 'acme-prod', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    assert.ok(webPod !== '');
    assert.ok(Date.parse(run.checkpoint?.time ?? '') * 1e6 >= Number((await readFile(join(data, 'pre-ran'), 'utf8')).trim()) - 1e9,
      'the checkpoint was asked for after the pre hooks');
  });

  it('takes nothing when a pre hook with onError Fail fails, says why, and still runs the post hooks', async () => {
    const before = (await env.vpg()).status?.appConsistent;
    await setHooks({
      intervalMinutes: 60,
      preCheckpoint: [hook('freeze', 'echo cannot freeze the database >&2; exit 4'), hook('never', 'touch /data/never-ran')],
      postCheckpoint: [hook('thaw', 'echo thawed-after-failure > /data/post-ran')],
    });
    const run = await nextRun(before?.startTime);
    assert.equal(run.result, 'HookFailed');
    assert.equal(run.checkpoint, undefined);
    assert.match(run.message, /^no checkpoint taken \(pre hook freeze has onError Fail\); pre hook freeze in pod web-\S+ failed: exited with 4: cannot freeze the database$/);
    assert.equal(await exists('never-ran'), false, 'the pre hooks stop at the failure');
    assert.equal((await readFile(join(data, 'post-ran'), 'utf8')).trim(), 'thawed-after-failure', 'the post hook ran anyway');
    const vpg = await env.vpg();
    const condition = findStatusCondition(vpg.status?.conditions, 'AppConsistent');
    assert.deepEqual([condition?.status, condition?.reason], ['False', 'HookFailed']);
    assert.match(condition?.message ?? '', /cannot freeze the database/);
    assert.equal(vpg.status?.phase, 'MeetingSLA', 'crash-consistent protection goes on');
    const newer = (vpg.status.checkpoints?.tagged ?? []).filter((c) => Date.parse(c.time) >= Date.parse(run.startTime));
    assert.deepEqual(newer.filter((c) => c.tag?.includes('app-consistent') === true), [], 'no checkpoint taken by the run');
    const events = await env.admin.list(EVENTS, { namespace: 'acme-prod' });
    assert.ok(events.items.some((e) => (e as { reason?: string; note?: string }).reason === 'HookFailed' && /cannot freeze/.test((e as { note?: string }).note ?? '')),
      'a Warning event says so');
  });

  it('takes the checkpoint after a failing hook with onError Continue, tagged as not app-consistent', async () => {
    const before = (await env.vpg()).status?.appConsistent?.startTime;
    await setHooks({ intervalMinutes: 60, preCheckpoint: [hook('flush', 'exit 1', 'Continue')] });
    const run = await nextRun(before);
    assert.equal(run.result, 'Degraded', run.message);
    assert.equal(run.checkpoint?.tag, 'not app-consistent: flush failed');
    assert.equal(findStatusCondition((await env.vpg()).status?.conditions, 'AppConsistent')?.reason, 'Degraded');
  });

  it('drops the status and the condition when the hooks go', async () => {
    await env.admin.jsonPatch(VPGS, 'web', 'acme-prod', [{ op: 'remove', path: '/spec/hooks' }]);
    await waitFor(async () => {
      const vpg = await env.vpg();
      return vpg.status?.appConsistent === undefined && findStatusCondition(vpg.status?.conditions, 'AppConsistent') === undefined;
    }, { what: 'status.appConsistent and the AppConsistent condition gone', timeoutMs: 30_000, intervalMs: 500 });
  });
});
