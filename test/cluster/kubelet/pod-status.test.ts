import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { canonical, computePhase, computePodStatus, statusChanged, type ContainerState, type ContainerStatus, type PodView } from './pod-status.ts';

const T0 = '2025-01-01T00:00:00Z';
const NOW = new Date('2025-01-01T00:05:00Z');

function cs(name: string, state: ContainerState, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  const running = state.running !== undefined;
  return { name, image: 'zcsp:dev', imageID: 'sha256:x', state, lastState: {}, ready: running, started: running, restartCount: 0, ...extra };
}
const running: ContainerState = { running: { startedAt: T0 } };
const waiting = (reason: string): ContainerState => ({ waiting: { reason } });
const exited = (exitCode: number): ContainerState => ({
  terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: T0, finishedAt: T0, containerID: 'zcsp-sim://1' },
});

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}, status?: V1Pod['status']): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', generation: 1 },
    spec: { containers: [{ name: 'main' }], ...spec },
    ...(status !== undefined && { status }),
  };
}

function view(p: V1Pod, statuses: ContainerStatus[], extra: Partial<PodView> = {}): PodView {
  return { pod: p, hostIP: '127.0.41.1', podIP: '127.0.41.2', startTime: T0, sandboxReady: true, podIsTerminal: false, initStatuses: [], statuses, ...extra };
}

describe('computePhase', () => {
  const phase = (p: V1Pod, statuses: ContainerStatus[], extra: Partial<PodView> = {}) => computePhase(view(p, statuses, extra));

  it('is Pending while a container waits, Running once all run', () => {
    assert.equal(phase(pod(), [cs('main', waiting('ContainerCreating'))]), 'Pending');
    assert.equal(phase(pod(), [cs('main', running)]), 'Running');
  });

  it('follows the restart policy once containers exit', () => {
    assert.equal(phase(pod({ restartPolicy: 'Always' }), [cs('main', exited(0))]), 'Running');
    assert.equal(phase(pod({ restartPolicy: 'OnFailure' }), [cs('main', exited(0))]), 'Succeeded');
    assert.equal(phase(pod({ restartPolicy: 'Never' }), [cs('main', exited(1))]), 'Failed');
    assert.equal(phase(pod({ restartPolicy: 'OnFailure' }), [cs('main', waiting('CrashLoopBackOff'), { lastState: exited(1) })]), 'Running');
  });

  it('is Pending during init, Failed when init fails with restartPolicy Never', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'init' }] });
    assert.equal(phase(p, [cs('main', waiting('PodInitializing'))], { initStatuses: [cs('init', running)] }), 'Pending');
    assert.equal(phase(p, [cs('main', waiting('PodInitializing'))], { initStatuses: [cs('init', exited(2))] }), 'Failed');
    const always = pod({ initContainers: [{ name: 'init' }] });
    assert.equal(phase(always, [cs('main', waiting('PodInitializing'))], { initStatuses: [cs('init', waiting('CrashLoopBackOff'), { lastState: exited(1) })] }), 'Pending');
  });

  it('makes a pod the node is done with Succeeded or Failed, whatever the policy', () => {
    assert.equal(phase(pod(), [cs('main', exited(0))], { podIsTerminal: true }), 'Succeeded');
    assert.equal(phase(pod(), [cs('main', exited(137))], { podIsTerminal: true }), 'Failed');
  });
});

describe('computePodStatus', () => {
  it('reports a running, ready pod', () => {
    const status = computePodStatus(view(pod(), [cs('main', running)]), NOW);
    assert.equal(status.phase, 'Running');
    assert.deepEqual(
      status.conditions.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['ContainersReady', 'True'],
        ['Ready', 'True'],
      ],
    );
    assert.deepEqual(status.podIPs, [{ ip: '127.0.41.2' }]);
    assert.deepEqual(status.hostIPs, [{ ip: '127.0.41.1' }]);
    assert.equal(status.observedGeneration, 1);
  });

  it('names the unready and uninitialized containers', () => {
    const p = pod({ initContainers: [{ name: 'setup' }, { name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'a' }, { name: 'b' }] });
    const status = computePodStatus(
      view(p, [cs('a', waiting('PodInitializing')), cs('b', waiting('PodInitializing'))], { initStatuses: [cs('setup', running), cs('proxy', waiting('PodInitializing'))] }),
      NOW,
    );
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    assert.equal(byType['Initialized']?.message, 'containers with incomplete status: [setup proxy]');
    assert.equal(byType['ContainersReady']?.message, 'containers with unready status: [proxy a b]');
    assert.equal(byType['Ready']?.reason, 'ContainersNotReady');
  });

  it('holds Ready back until readiness gates are True', () => {
    const gated = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const missing = computePodStatus(view(gated, [cs('main', running)]), NOW).conditions.find((c) => c.type === 'Ready');
    assert.ok(missing);
    assert.equal(missing.status, 'False');
    assert.equal(missing.message, 'corresponding condition of pod readiness gate "example.com/lb" does not exist.');
    const withGate = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }, { conditions: [{ type: 'example.com/lb', status: 'True' }] });
    assert.equal(computePodStatus(view(withGate, [cs('main', running)]), NOW).conditions.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('reports a whole-pod failure with its reason', () => {
    const failure = { reason: 'ImageNotRunnable', message: 'image "nginx" …' };
    const status = computePodStatus(view(pod(), [cs('main', waiting('ImageNotRunnable'))], { failure, podIP: undefined, sandboxReady: false }), NOW);
    assert.equal(status.phase, 'Failed');
    assert.equal(status.reason, 'ImageNotRunnable');
    assert.equal(status.podIP, undefined);
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const earlier = new Date('2024-12-31T23:00:00Z');
    const p = pod({}, { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: earlier }, { type: 'Initialized', status: 'False', lastTransitionTime: earlier }] });
    const byType = Object.fromEntries(computePodStatus(view(p, [cs('main', running)]), NOW).conditions.map((c) => [c.type, c.lastTransitionTime]));
    assert.equal(byType['Ready'], '2024-12-31T23:00:00Z');
    assert.equal(byType['Initialized'], '2025-01-01T00:05:00Z');
  });
});

describe('statusChanged', () => {
  /** What the API hands back after the desired status was written: Dates, empty lastState, extra fields. */
  function asReturnedByApi(desired: ReturnType<typeof computePodStatus>, dropObservedGeneration = false): NonNullable<V1Pod['status']> {
    const revive = (v: unknown): unknown => {
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return new Date(v);
      if (Array.isArray(v)) return v.map(revive);
      if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
      return v;
    };
    const status = revive(JSON.parse(JSON.stringify(desired))) as Record<string, unknown>;
    status['qosClass'] = 'BestEffort';
    (status['conditions'] as unknown[]).push({ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(T0) });
    if (dropObservedGeneration) {
      delete status['observedGeneration'];
      for (const c of status['conditions'] as Array<Record<string, unknown>>) delete c['observedGeneration'];
    }
    return status;
  }

  it('sees no change in what the API returned for the same status', () => {
    const desired = computePodStatus(view(pod(), [cs('main', running)]), NOW);
    assert.equal(statusChanged(asReturnedByApi(desired), desired), false);
    assert.equal(statusChanged(asReturnedByApi(desired, true), desired), false, 'an API server without observedGeneration');
  });

  it('sees a changed container state, phase or condition', () => {
    const before = computePodStatus(view(pod(), [cs('main', running)]), NOW);
    const after = computePodStatus(view(pod(), [cs('main', { running: { startedAt: T0 } }, { ready: false })]), NOW);
    assert.equal(statusChanged(asReturnedByApi(before), after), true);
    assert.equal(statusChanged(undefined, before), true);
  });

  it('canonical drops nulls and empty objects and sorts keys', () => {
    assert.deepEqual(canonical({ b: 1, a: { x: null, y: {} }, t: new Date('2025-01-01T00:00:00.500Z') }), { b: 1, t: '2025-01-01T00:00:00Z' });
  });
});
