// A pod's status as the kubelet reports it, computed from what the node knows (pure), and the
// test for "did it change" that keeps the kubelet from writing when nothing did.
//
// Phase follows the kubelet's getPhase; conditions are PodReadyToStartContainers, Initialized,
// ContainersReady and Ready (with readiness gates). A condition keeps its lastTransitionTime
// while its status stays the same. Only the fields the kubelet owns are compared and written.
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason: string;
    message?: string;
    startedAt: string;
    finishedAt: string;
    containerID: string;
  };
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
  lastProbeTime: null;
  observedGeneration?: number;
}

/** The part of PodStatus the kubelet owns. */
export interface OwnedPodStatus {
  phase: Phase;
  conditions: PodCondition[];
  hostIP: string;
  hostIPs: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime?: string;
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface PodView {
  pod: V1Pod;
  hostIP: string;
  podIP: string | undefined;
  startTime: string | undefined;
  /** Volumes are set up and the pod has its IP: containers can start. */
  sandboxReady: boolean;
  /** The node is done with the pod (deleted, or all containers finished for good). */
  podIsTerminal: boolean;
  /** Init containers in spec order; sidecars are those with restartPolicy Always. */
  initStatuses: ContainerStatus[];
  statuses: ContainerStatus[];
  /** A reason the whole pod failed, e.g. ImageNotRunnable. */
  failure?: { reason: string; message: string };
}

/**
 * Seconds-precision RFC 3339, the API's metav1.Time format. Accepts strings too: objects from a
 * watch are raw JSON (client-node deserializes times into Dates only for typed calls).
 */
export function apiTime(d: Date | number | string): string {
  return new Date(d).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function computePodStatus(view: PodView, now: Date): OwnedPodStatus {
  const { pod } = view;
  const generation = pod.metadata?.generation;
  const phase = view.failure !== undefined ? 'Failed' : computePhase(view);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));

  const initIncomplete = view.initStatuses
    .filter((s) => (sidecars.has(s.name) ? !(s.started && s.state.running !== undefined) : s.state.terminated?.exitCode !== 0))
    .map((s) => s.name);
  const unready = [...view.initStatuses.filter((s) => sidecars.has(s.name)), ...view.statuses].filter((s) => !s.ready).map((s) => s.name);

  const current = pod.status?.conditions ?? [];
  const condition = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => {
    const status = ok ? 'True' : 'False';
    const previous = current.find((c) => c.type === type);
    const since = previous?.status === status && previous.lastTransitionTime !== undefined ? apiTime(previous.lastTransitionTime) : apiTime(now);
    return {
      type,
      status,
      ...(reason !== undefined && { reason }),
      ...(message !== undefined && { message }),
      lastTransitionTime: since,
      lastProbeTime: null,
      ...(generation !== undefined && { observedGeneration: generation }),
    };
  };

  const sandbox = condition('PodReadyToStartContainers', view.sandboxReady && !view.podIsTerminal);
  const initialized =
    initIncomplete.length === 0 || phase === 'Succeeded'
      ? condition('Initialized', true)
      : condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${initIncomplete.join(' ')}]`);
  let containersReady: PodCondition;
  if (phase === 'Succeeded') containersReady = condition('ContainersReady', false, 'PodCompleted');
  else if (unready.length > 0) containersReady = condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  else containersReady = condition('ContainersReady', true);

  let ready: PodCondition;
  if (containersReady.status === 'False') ready = condition('Ready', false, containersReady.reason, containersReady.message);
  else {
    const gateProblems = (pod.spec?.readinessGates ?? []).flatMap((gate) => {
      const c = current.find((x) => x.type === gate.conditionType);
      if (c === undefined) return [`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`];
      if (c.status !== 'True') return [`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`];
      return [];
    });
    ready = gateProblems.length > 0 ? condition('Ready', false, 'ReadinessGatesNotReady', gateProblems.join(', ')) : condition('Ready', true);
  }

  return {
    phase,
    conditions: [sandbox, initialized, containersReady, ready],
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    ...(view.podIP !== undefined && { podIP: view.podIP, podIPs: [{ ip: view.podIP }] }),
    ...(view.startTime !== undefined && { startTime: view.startTime }),
    initContainerStatuses: view.initStatuses,
    containerStatuses: view.statuses,
    ...(view.failure !== undefined && { reason: view.failure.reason, message: view.failure.message }),
    ...(generation !== undefined && { observedGeneration: generation }),
  };
}

/** The kubelet's getPhase. */
export function computePhase(view: Pick<PodView, 'pod' | 'initStatuses' | 'statuses' | 'podIsTerminal'>): Phase {
  const policy = view.pod.spec?.restartPolicy ?? 'Always';
  const sidecars = new Set((view.pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of view.initStatuses) {
    if (sidecars.has(s.name)) {
      if (!(s.started && s.state.running !== undefined)) pendingInit++;
      continue;
    }
    const t = s.state.terminated;
    if (t !== undefined) {
      if (t.exitCode !== 0) failedInit++;
    } else if (s.state.waiting !== undefined && s.lastState.terminated !== undefined && s.lastState.terminated.exitCode !== 0) {
      failedInit++;
    } else {
      pendingInit++;
    }
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';

  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of view.statuses) {
    if (s.state.running !== undefined) running++;
    else if (s.state.terminated !== undefined) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated !== undefined) {
      stopped++;
      if (s.lastState.terminated.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if ((failedInit > 0 || pendingInit > 0) && !view.podIsTerminal) return 'Pending';
  if (waiting > 0 && !view.podIsTerminal) return 'Pending';
  if (running > 0 && !view.podIsTerminal) return 'Running';
  if (stopped > 0 || view.podIsTerminal) {
    if (view.podIsTerminal) return stopped === succeeded && failedInit === 0 && waiting === 0 ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/**
 * The body of the strategic merge patch that makes the API's status the desired one. The patch
 * merges conditions by type and keeps fields it does not mention, so a reason or message that
 * no longer applies is removed explicitly (null), as the kubelet's own status patches do.
 */
export function statusPatch(uid: string, desired: OwnedPodStatus): Record<string, unknown> {
  return {
    metadata: { uid },
    status: {
      ...desired,
      reason: desired.reason ?? null,
      message: desired.message ?? null,
      conditions: desired.conditions.map((c) => ({ ...c, reason: c.reason ?? null, message: c.message ?? null })),
    },
  };
}

/**
 * Whether the API's status differs from the desired one in any field the kubelet owns. Times are
 * compared at the API's precision; conditions by type (other writers' conditions are ignored);
 * observedGeneration only where the API kept it (older servers drop the field, and comparing it
 * there would mean writing forever).
 */
export function statusChanged(current: V1PodStatus | undefined, desired: OwnedPodStatus): boolean {
  return statusDifferences(current, desired).length > 0;
}

/** The owned fields (and condition types) whose value differs: for statusChanged and for logs. */
export function statusDifferences(current: V1PodStatus | undefined, desired: OwnedPodStatus): string[] {
  const cur = canonical(current ?? {}) as Record<string, unknown>;
  const want = canonical(desired) as Record<string, unknown>;
  const differences: string[] = [];
  for (const key of Object.keys(want)) {
    if (key === 'conditions') continue;
    if (key === 'observedGeneration' && cur[key] === undefined) continue;
    if (JSON.stringify(cur[key]) !== JSON.stringify(want[key])) differences.push(key);
  }
  const currentConditions = (cur['conditions'] ?? []) as Array<Record<string, unknown>>;
  for (const c of want['conditions'] as Array<Record<string, unknown>>) {
    const existing = currentConditions.find((x) => x['type'] === c['type']);
    const comparable = existing?.['observedGeneration'] === undefined ? { ...c, observedGeneration: undefined } : c;
    if (existing === undefined || JSON.stringify(canonical(comparable)) !== JSON.stringify(existing)) differences.push(`conditions[${String(c['type'])}]`);
  }
  return differences;
}

/**
 * The form both sides are compared in: Dates → API time strings; null, undefined, empty objects
 * and empty lists dropped (the API omits them); keys sorted.
 */
export function canonical(value: unknown): unknown {
  if (value instanceof Date) return apiTime(value);
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonical((value as Record<string, unknown>)[key]);
      if (v === undefined || v === null) continue;
      if (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0) continue;
      out[key] = v;
    }
    return out;
  }
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return value.replace(/\.\d+Z$/, 'Z');
  return value;
}
