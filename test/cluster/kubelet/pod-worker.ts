// One pod on this node, driven by a level-triggered loop: every wake-up (a new version of the pod
// from the informer, a container exit, a probe result, a timer) runs reconcile(), which looks at
// the latest pod and at what runs, and moves one step towards what the pod asks for:
//
//   gone from the API   → stop everything, clean up, end
//   deletionTimestamp   → stop containers (preStop, stop signal, SIGKILL at the grace period),
//                         report the final status, delete the pod object (grace 0, uid precondition)
//   image not runnable  → Failed, ImageNotRunnable
//   otherwise           → pod IP, volumes (waiting while e.g. a PVC is unbound), init containers
//                         in order, then the containers, restarts with crash-loop back-off
//
// and finally writes the status if it changed. Errors are retried with back-off.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage, isConflict, isNotFound, strategicMergePatch } from './api.ts';
import { Deadline, goDuration, RetryBackoff, waitAtMost } from './backoff.ts';
import { memoizedConfigSource } from './config-source.ts';
import { ContainerRuntime, type ContainerKind, type Instance } from './container.ts';
import { buildInstanceSpec, isPlaceholderPod } from './container-spec.ts';
import type { KubeletContext } from './context.ts';
import { ContainerConfigError } from './env.ts';
import type { ExecTarget } from './exec-server.ts';
import { runHandler, type HandlerContext } from './handlers.ts';
import { apiTime, computePodStatus, statusDifferences, statusPatch, type PodView } from './pod-status.ts';
import { ContainerProbes, type ProbeKind } from './probes.ts';
import { VolumeNotReadyError } from './volume-payload.ts';
import {
  automountServiceAccountToken,
  containersWithoutServiceAccountMount,
  DEFAULT_SA_VOLUME,
  podDirectory,
  setUpDefaultServiceAccountVolume,
  setUpVolumes,
  type PreparedVolume,
} from './volumes.ts';

/** Re-run reconcile at least this often (volume refresh, missed events). */
const RESYNC_MS = 20_000;
/** configMap, secret, downwardAPI and projected volumes are refreshed this often. */
const VOLUME_RESYNC_MS = 30_000;
/** Retry delay while something the pod needs is missing (a ConfigMap, an unbound claim). */
const WAITING_RETRY_MS = 2000;
/** The kubelet never kills a container with less grace than this. */
const MIN_GRACE_MS = 2000;

interface Termination {
  deadline: Deadline;
  finished: boolean;
  done: Promise<void>;
}

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly #ctx: KubeletContext;
  readonly #log: Logger;
  readonly #podDir: string;
  readonly #containers = new Map<string, ContainerRuntime>();
  readonly #retry = new RetryBackoff(500, 30_000);
  #pod: V1Pod;
  #gone = false;
  #stopping = false;
  #done = false;
  #podIP: string | undefined;
  #startTime: string | undefined;
  #volumes: Map<string, PreparedVolume> | undefined;
  #volumesSyncedAt = 0;
  #volumesKey = '';
  #defaultServiceAccount: boolean | undefined;
  #terminal = false;
  /** Terminal before this kubelet saw it: nothing runs, its status is left as it is. */
  #historic = false;
  #failure: { reason: string; message: string } | undefined;
  #termination: Termination | undefined;
  #finalDeleted = false;
  #dirty = true;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  /** Settles when the worker has finished: the pod is gone and cleaned up, or the kubelet stopped. */
  readonly finished: Promise<void>;

  constructor(pod: V1Pod, ctx: KubeletContext) {
    this.uid = pod.metadata?.uid ?? '';
    this.namespace = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    this.#pod = pod;
    this.#ctx = ctx;
    this.#log = ctx.logger.child({ pod: `${this.namespace}/${this.name}` });
    this.#podDir = podDirectory(ctx.kubeletDir, pod);
    this.finished = this.#run();
  }

  get podDir(): string {
    return this.#podDir;
  }

  /** The latest version of the pod from the API, or undefined when it is gone. Wakes the loop on news. */
  update(pod: V1Pod | undefined): void {
    if (pod === undefined) {
      if (this.#gone) return;
      this.#gone = true;
    } else if (!this.#adopt(pod)) {
      return;
    }
    this.#poke();
  }

  restartCount(container: string): number | undefined {
    return this.#containers.get(container)?.restartCount;
  }

  /** The running container to exec in (its PID 1 and environment), or why there is none. */
  execTarget(container: string): ExecTarget | string {
    const c = this.#containers.get(container);
    if (c === undefined) return `container ${container} is not valid for pod ${this.namespace}/${this.name}`;
    const instance = c.running ? c.current : undefined;
    const pid = instance?.sandbox.containerPid();
    if (instance === undefined || pid === undefined) return `container ${container} of pod ${this.namespace}/${this.name} is not running`;
    return { pid, env: instance.env };
  }

  /** Kubelet shutdown: no more API writes or starts; containers stopped with at most `capMs` of grace. */
  async shutdown(capMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#beginTermination(Math.min(capMs, this.#graceMs()), capMs);
    await this.#termination?.done;
    this.#done = true;
    this.#poke();
    // A sync in flight (an API call) ends the loop when it returns; it starts nothing more, and
    // kills what it was starting. Not waiting forever for an API server that may be gone.
    await waitAtMost(this.finished, 5000);
  }

  // ---- the loop ------------------------------------------------------------------------------

  async #run(): Promise<void> {
    while (!this.#done) {
      this.#dirty = false;
      try {
        await this.#reconcile();
        this.#retry.reset();
      } catch (err: unknown) {
        const delay = this.#retry.next();
        this.#log.warn({ err: errorMessage(err), retryInMs: delay }, 'pod sync failed');
        this.#scheduleWake(delay);
      }
      if (this.#isDone()) break;
      if (!this.#isDirty()) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    }
    clearTimeout(this.#timer);
  }

  // Re-read after an await: other callbacks change these meanwhile.
  #isDone(): boolean {
    return this.#done;
  }

  #isDirty(): boolean {
    return this.#dirty;
  }

  #isStopping(): boolean {
    return this.#stopping;
  }

  #poke(): void {
    this.#dirty = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #scheduleWake(ms: number): void {
    if (this.#stopping) return;
    const at = Date.now() + ms;
    if (at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timerAt = Infinity;
      this.#poke();
    }, ms);
  }

  // ---- reconcile -----------------------------------------------------------------------------

  async #reconcile(): Promise<void> {
    if (this.#stopping) return;
    const pod = this.#pod;
    if (this.#gone) {
      // Deleted without our final delete (force deletion), or no longer bound to this node.
      this.#beginTermination(this.#graceMs());
      await this.#termination?.done;
      await this.#cleanUp();
      this.#done = true;
      return;
    }
    if (pod.metadata?.deletionTimestamp !== undefined) {
      await this.#reconcileDeletion();
      return;
    }
    if (this.#terminal) {
      await this.#syncStatus();
      return;
    }
    const phase = pod.status?.phase;
    if ((phase === 'Succeeded' || phase === 'Failed') && this.#containers.size === 0) {
      // Finished before this kubelet started (an earlier kubelet of the node ran it): a terminal
      // pod never runs again, and its status is history, not ours to rewrite.
      this.#terminal = true;
      this.#historic = true;
      return;
    }
    const failure = this.#admit(pod);
    if (failure !== undefined) {
      this.#failure = failure;
      this.#terminal = true;
      this.#event('Warning', 'Failed', failure.message);
      this.#log.warn(failure.message);
      await this.#syncStatus();
      return;
    }
    this.#podIP ??= pod.spec?.hostNetwork === true ? this.#ctx.nodeIP : this.#ctx.ipPool.allocate(this.uid, pod.status?.podIP);
    this.#startTime ??= pod.status?.startTime !== undefined ? apiTime(pod.status.startTime) : apiTime(Date.now());

    if (await this.#syncVolumes(pod)) await this.#syncContainers(pod);
    else this.#scheduleWake(WAITING_RETRY_MS);
    await this.#syncStatus();
    this.#scheduleWake(RESYNC_MS);
  }

  /** Pods the node cannot run fail at once, with a message that says why. */
  #admit(pod: V1Pod): { reason: string; message: string } | undefined {
    if (isPlaceholderPod(pod)) return undefined;
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const image = c.image ?? '';
      if (this.#ctx.isProjectImage(image)) continue;
      const message = `image "${image}" of container "${c.name}" cannot run here: the simulated node only runs the project's image (annotate the pod sim.zcsp.io/placeholder: "true" to run a placeholder instead)`;
      const runtime = this.#container(c, (pod.spec?.initContainers ?? []).includes(c) ? 'init' : 'regular');
      runtime.waiting = { reason: 'ImageNotRunnable', message };
      return { reason: 'ImageNotRunnable', message };
    }
    return undefined;
  }

  async #syncVolumes(pod: V1Pod): Promise<boolean> {
    const key = JSON.stringify([pod.metadata?.labels, pod.metadata?.annotations]);
    if (this.#volumes !== undefined && key === this.#volumesKey && Date.now() - this.#volumesSyncedAt < VOLUME_RESYNC_MS) return true;
    const ctx = {
      pod,
      podDir: this.#podDir,
      clusterDir: this.#ctx.clusterDir,
      nodeName: this.#ctx.nodeName,
      core: this.#ctx.clients.core,
      source: memoizedConfigSource(this.#ctx.configSource),
      tokens: this.#ctx.tokens,
      runtime: this.#runtimeFields(),
      allocatable: this.#ctx.allocatable,
      caFile: this.#ctx.caFile,
    };
    try {
      const volumes = await setUpVolumes(ctx, pod.spec?.volumes ?? []);
      this.#defaultServiceAccount ??=
        containersWithoutServiceAccountMount([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]).length > 0 &&
        (await automountServiceAccountToken(this.#ctx.clients.core, pod));
      if (this.#defaultServiceAccount) volumes.set(DEFAULT_SA_VOLUME, await setUpDefaultServiceAccountVolume(ctx));
      if (this.#volumes === undefined) {
        // The volume problem reported while waiting is over.
        for (const c of this.#allContainers(pod)) if (c.current === undefined && c.waiting !== undefined) c.waiting = { reason: c.waiting.reason };
      }
      this.#volumes = volumes;
      this.#volumesSyncedAt = Date.now();
      this.#volumesKey = key;
      return true;
    } catch (err: unknown) {
      const message = err instanceof VolumeNotReadyError ? err.message : errorMessage(err);
      if (this.#volumes !== undefined) {
        // Running containers keep the last good content, as with the kubelet.
        this.#log.warn({ err: message }, 'volume refresh failed');
        this.#volumesSyncedAt = Date.now();
        return true;
      }
      this.#event('Warning', 'FailedMount', message);
      for (const c of this.#allContainers(pod)) {
        if (c.current === undefined && c.waiting !== undefined) c.waiting = { reason: c.waiting.reason, message };
      }
      this.#log.info({ reason: message }, 'waiting for volumes');
      return false;
    }
  }

  async #syncContainers(pod: V1Pod): Promise<void> {
    if (this.#termination !== undefined) return;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    let initDone = true;
    for (const spec of pod.spec?.initContainers ?? []) {
      const c = this.#container(spec, spec.restartPolicy === 'Always' ? 'sidecar' : 'init');
      if (c.kind === 'sidecar') {
        if (!c.running) await this.#startWithBackoff(pod, spec, c);
        if (!c.started) {
          initDone = false;
          break;
        }
        continue;
      }
      if (c.running) {
        initDone = false;
        break;
      }
      const exited = c.exited;
      if (exited?.exitCode === 0) continue;
      if (exited !== undefined && policy === 'Never') {
        this.#finish();
        return;
      }
      await this.#startWithBackoff(pod, spec, c);
      initDone = false;
      break;
    }
    if (!initDone) return;
    for (const spec of pod.spec?.containers ?? []) {
      const c = this.#container(spec, 'regular');
      if (c.running) continue;
      const exited = c.exited;
      if (exited === undefined || shouldRestart(policy, exited.exitCode)) await this.#startWithBackoff(pod, spec, c);
    }
    const regular = (pod.spec?.containers ?? []).map((spec) => this.#container(spec, 'regular'));
    const doneForGood = regular.every((c) => !c.running && c.exited !== undefined && !shouldRestart(policy, c.exited.exitCode));
    if (doneForGood && regular.length > 0) this.#finish();
  }

  /** All containers have finished for good: stop what is left (sidecars), the pod is terminal. */
  #finish(): void {
    this.#terminal = true;
    this.#beginTermination(this.#graceMs());
  }

  async #startWithBackoff(pod: V1Pod, spec: V1Container, c: ContainerRuntime): Promise<void> {
    const exited = c.exited;
    if (exited !== undefined) {
      const wait = c.backoff.remaining(exited.finishedAtMs, Date.now());
      if (wait > 0) {
        const podRef = `${this.name}_${this.namespace}(${this.uid})`;
        c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(c.backoff.currentMs)} restarting failed container=${c.name} pod=${podRef}` };
        this.#event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podRef}`, c.name);
        this.#scheduleWake(wait);
        return;
      }
      c.backoff.recordRestart(exited.finishedAtMs, Date.now());
    }
    await this.#startContainer(pod, spec, c);
  }

  async #startContainer(pod: V1Pod, spec: V1Container, c: ContainerRuntime): Promise<void> {
    if (this.#stopping || this.#volumes === undefined || this.#podIP === undefined) return;
    let instanceSpec;
    try {
      instanceSpec = await buildInstanceSpec({
        kubelet: this.#ctx,
        pod,
        container: spec,
        kind: c.kind,
        index: c.nextIndex,
        podDir: this.#podDir,
        podIP: this.#podIP,
        volumes: this.#volumes,
        defaultServiceAccount: this.#defaultServiceAccount === true,
        source: memoizedConfigSource(this.#ctx.configSource),
      });
    } catch (err: unknown) {
      if (!(err instanceof ContainerConfigError)) throw err;
      c.waiting = { reason: err.reason, message: err.message };
      this.#event('Warning', 'Failed', `Error: ${err.message}`, c.name);
      this.#scheduleWake(WAITING_RETRY_MS);
      return;
    }
    if (this.#isStopping()) return;
    let instance: Instance;
    try {
      instance = await c.start(instanceSpec, () => this.#poke());
    } catch (err: unknown) {
      c.waiting = { reason: 'RunContainerError', message: errorMessage(err) };
      this.#scheduleWake(WAITING_RETRY_MS);
      return;
    }
    if (this.#isStopping()) {
      c.kill();
      return;
    }
    this.#log.info({ container: c.name, restartCount: c.restartCount, pid: instance.sandbox.pid }, 'container started');
    this.#event('Normal', 'Started', `Started container ${c.name}`, c.name);
    if (isPlaceholderPod(pod)) return;
    instance.probes = this.#probes(pod, spec, c, instance);
    const postStart = spec.lifecycle?.postStart;
    if (postStart !== undefined) void this.#postStart(spec, c, instance, postStart);
  }

  #probes(pod: V1Pod, spec: V1Container, c: ContainerRuntime, instance: Instance): ContainerProbes | undefined {
    if (spec.startupProbe === undefined && spec.livenessProbe === undefined && spec.readinessProbe === undefined) return undefined;
    const handlerCtx = this.#handlerContext(spec, instance);
    return new ContainerProbes(spec, instance.startedAt, {
      run: (probe) => runHandler(probe, handlerCtx, (probe.timeoutSeconds ?? 1) * 1000),
      changed: () => this.#poke(),
      unhealthy: (kind, message) => this.#event('Warning', 'Unhealthy', `${probeName(kind)} probe failed: ${message}`, c.name),
      failed: (kind, message) => {
        this.#event('Normal', 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`, c.name);
        this.#log.info({ container: c.name, kind }, message);
        const probe = kind === 'liveness' ? spec.livenessProbe : spec.startupProbe;
        const graceMs = Math.max(MIN_GRACE_MS, (probe?.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
        void this.#stopWithin(c, instance, graceMs, spec);
      },
    });
  }

  /** A failing postStart hook kills the container (which then restarts per the restart policy). */
  async #postStart(spec: V1Container, c: ContainerRuntime, instance: Instance, hook: V1LifecycleHandler): Promise<void> {
    const graceMs = this.#graceMs();
    const outcome = await runHandler(hook, this.#handlerContext(spec, instance), graceMs);
    if (outcome.ok || c.current !== instance || instance.terminated !== undefined) return;
    this.#event('Warning', 'FailedPostStartHook', `PostStartHook failed: ${outcome.message ?? ''}`, c.name);
    await this.#stopWithin(c, instance, graceMs, spec);
  }

  /** Stops one instance with a grace period of its own; the deadline's timer goes with the stop. */
  async #stopWithin(c: ContainerRuntime, instance: Instance, graceMs: number, spec: V1Container): Promise<void> {
    const deadline = new Deadline(Date.now() + graceMs);
    try {
      await this.#stopInstance(c, instance, deadline, spec);
    } finally {
      deadline.cancel();
    }
  }

  /** preStop hook (within the deadline), then the stop signal, then SIGKILL at the deadline. */
  async #stopInstance(c: ContainerRuntime, instance: Instance, deadline: Deadline, spec: V1Container | undefined): Promise<void> {
    if (instance.terminated !== undefined || c.current !== instance) return;
    try {
      this.#event('Normal', 'Killing', `Stopping container ${c.name}`, c.name);
      const preStop = spec?.lifecycle?.preStop;
      if (preStop !== undefined && !isPlaceholderPod(this.#pod)) {
        const remaining = Math.max(0, deadline.at - Date.now());
        await Promise.race([runHandler(preStop, this.#handlerContext(spec ?? { name: c.name }, instance), remaining), deadline.reached]);
      }
      await c.stop(deadline, stopSignal(spec));
    } catch (err: unknown) {
      this.#log.warn({ container: c.name, err: errorMessage(err) }, 'stopping container failed; killing it');
      c.kill();
    }
  }

  #handlerContext(spec: Pick<V1Container, 'name' | 'ports'>, instance: Instance): HandlerContext {
    return {
      podIP: this.#podIP ?? this.#ctx.nodeIP,
      container: spec,
      containerPid: () => instance.sandbox.containerPid(),
      env: instance.env,
      clusterId: this.#ctx.clusterId,
      kubeletVersion: this.#ctx.kubeletVersion,
    };
  }

  // ---- termination ---------------------------------------------------------------------------

  async #reconcileDeletion(): Promise<void> {
    this.#beginTermination(this.#graceMs());
    if (this.#termination?.finished !== true) return;
    await this.#syncStatus();
    if (this.#finalDeleted || this.#stopping) return;
    try {
      // The kubelet's final delete: grace 0, only if it is still the same pod.
      await this.#ctx.clients.core.deleteNamespacedPod({
        name: this.name,
        namespace: this.namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
    } catch (err: unknown) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    this.#finalDeleted = true;
    this.#log.info('pod deleted');
  }

  /** The grace period of the pod's deletion, or of its spec; at least the kubelet's minimum. */
  #graceMs(): number {
    const meta = this.#pod.metadata;
    const seconds = meta?.deletionGracePeriodSeconds ?? this.#pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(MIN_GRACE_MS, seconds * 1000);
  }

  /** Starts stopping every container (idempotent); a shorter grace brings the deadline forward. */
  #beginTermination(graceMs: number, capMs?: number): void {
    const at = Date.now() + (capMs === undefined ? Math.max(graceMs, MIN_GRACE_MS) : Math.min(graceMs, capMs));
    if (this.#termination !== undefined) {
      this.#termination.deadline.bringForward(at);
      return;
    }
    const deadline = new Deadline(at);
    const termination: Termination = { deadline, finished: false, done: Promise.resolve() };
    termination.done = (async () => {
      try {
        const all = [...this.#containers.values()];
        const specs = new Map([...(this.#pod.spec?.initContainers ?? []), ...(this.#pod.spec?.containers ?? [])].map((s) => [s.name, s]));
        const stop = (c: ContainerRuntime) => (c.current === undefined ? Promise.resolve() : this.#stopInstance(c, c.current, deadline, specs.get(c.name)));
        // Containers first, then sidecars in reverse order, as the kubelet does.
        await Promise.all(all.filter((c) => c.kind !== 'sidecar').map(stop));
        for (const c of all.filter((x) => x.kind === 'sidecar').reverse()) await stop(c);
      } finally {
        deadline.cancel();
        termination.finished = true;
        if (this.#terminal && this.#pod.spec?.hostNetwork !== true) this.#ctx.ipPool.release(this.uid);
        this.#poke();
      }
    })();
    this.#termination = termination;
  }

  async #cleanUp(): Promise<void> {
    this.#ctx.ipPool.release(this.uid);
    this.#ctx.tokens.forget(this.uid);
    // Logs stay for post-mortems; volume contents (secrets, emptyDirs) and sandbox files go.
    await rm(join(this.#podDir, 'volumes'), { recursive: true, force: true });
    await rm(join(this.#podDir, '_sandbox'), { recursive: true, force: true });
    this.#log.info('pod cleaned up');
  }

  // ---- status --------------------------------------------------------------------------------

  async #syncStatus(): Promise<void> {
    if (this.#stopping || this.#historic) return;
    const pod = this.#pod;
    const deleted = pod.metadata?.deletionTimestamp !== undefined;
    const podIsTerminal = this.#failure !== undefined || ((this.#terminal || deleted) && this.#termination?.finished === true);
    const view: PodView = {
      pod,
      hostIP: this.#ctx.nodeIP,
      podIP: this.#podIP,
      startTime: this.#startTime,
      sandboxReady: this.#volumes !== undefined && this.#podIP !== undefined,
      podIsTerminal,
      initStatuses: (pod.spec?.initContainers ?? []).map((s) => this.#container(s, s.restartPolicy === 'Always' ? 'sidecar' : 'init').status(imageID(s.image))),
      statuses: (pod.spec?.containers ?? []).map((s) => this.#container(s, 'regular').status(imageID(s.image))),
      ...(this.#failure !== undefined && { failure: this.#failure }),
    };
    const desired = computePodStatus(view, new Date());
    const differences = statusDifferences(pod.status, desired);
    if (differences.length === 0) return;
    try {
      const updated = await this.#ctx.clients.core.patchNamespacedPodStatus(
        { name: this.name, namespace: this.namespace, body: statusPatch(this.uid, desired) },
        strategicMergePatch,
      );
      this.#adopt(updated);
      this.#log.debug({ phase: desired.phase, changed: differences, rv: updated.metadata?.resourceVersion }, 'status updated');
    } catch (err: unknown) {
      // Gone, or a new pod of the same name (uid mismatch): the informer will tell.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Keeps the newest version (by resourceVersion) of the pod seen from the informer or a write; true if it is new. */
  #adopt(pod: V1Pod): boolean {
    if (pod.metadata?.uid !== this.uid) return false;
    const current = this.#pod.metadata?.resourceVersion;
    if (pod.metadata.resourceVersion === current || !isNewer(pod.metadata.resourceVersion, current)) return false;
    this.#pod = pod;
    return true;
  }

  #container(spec: V1Container, kind: ContainerKind): ContainerRuntime {
    let c = this.#containers.get(spec.name);
    if (c === undefined) {
      c = new ContainerRuntime(spec, kind, this.#ctx.crashLoop);
      // Until init containers are done, the kubelet reports PodInitializing.
      if (kind !== 'regular' || (this.#pod.spec?.initContainers ?? []).length > 0) c.waiting = { reason: 'PodInitializing' };
      this.#containers.set(spec.name, c);
    }
    return c;
  }

  #allContainers(pod: V1Pod): ContainerRuntime[] {
    return [
      ...(pod.spec?.initContainers ?? []).map((s) => this.#container(s, s.restartPolicy === 'Always' ? 'sidecar' : 'init')),
      ...(pod.spec?.containers ?? []).map((s) => this.#container(s, 'regular')),
    ];
  }

  #runtimeFields(): { podIPs: string[]; hostIPs: string[] } {
    return { podIPs: this.#podIP === undefined ? [] : [this.#podIP], hostIPs: [this.#ctx.nodeIP] };
  }

  #event(type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    if (this.#stopping) return;
    this.#ctx.events.record(this.#pod, type, reason, message, container);
  }
}

function shouldRestart(policy: string, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

function probeName(kind: ProbeKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

function stopSignal(spec: V1Container | undefined): NodeJS.Signals {
  const signal = spec?.lifecycle?.stopSignal;
  return signal !== undefined && /^SIG[A-Z0-9]+$/.test(signal) ? (signal as NodeJS.Signals) : 'SIGTERM';
}

/** The image's "ID": stable per image name, in the runtime's sha256 form. */
function imageID(image: string | undefined): string {
  return `sha256:${createHash('sha256').update(image ?? '').digest('hex')}`;
}

/** resourceVersions are opaque, but etcd-backed servers use increasing integers. */
function isNewer(candidate: string | undefined, current: string | undefined): boolean {
  if (candidate === undefined || current === undefined) return true;
  try {
    return BigInt(candidate) >= BigInt(current);
  } catch {
    return true;
  }
}
