// One container of a pod over its life on this node: its current instance (a sandbox process),
// the previous termination, the restart count and back-off, and its API status. What to start
// and when is the pod worker's decision; this keeps the record and runs the instance.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { V1Container } from '@kubernetes/client-node';
import { CrashLoopBackoff, type Deadline } from './backoff.ts';
import type { ContainerProbes } from './probes.ts';
import type { ContainerState, ContainerStatus } from './pod-status.ts';
import { apiTime } from './pod-status.ts';
import { startSandbox, type Sandbox, type SandboxSpec } from './sandbox.ts';
import { readTailLines } from '../tail.ts';

export type ContainerKind = 'init' | 'sidecar' | 'regular';

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  finishedAtMs: number;
  containerID: string;
}

export interface Instance {
  readonly containerID: string;
  readonly startedAt: number;
  readonly sandbox: Sandbox;
  /** The container's environment (exec probes and hooks run with it). */
  readonly env: Readonly<Record<string, string>>;
  probes: ContainerProbes | undefined;
  terminated: Terminated | undefined;
  readonly done: Promise<Terminated>;
}

export interface InstanceSpec {
  sandbox: SandboxSpec;
  /** Host file mounted at terminationMessagePath. */
  terminationLogFile: string;
  terminationMessagePolicy: string | undefined;
}

const TERMINATION_MESSAGE_LIMIT = 4096;

export class ContainerRuntime {
  readonly name: string;
  readonly kind: ContainerKind;
  readonly image: string;
  readonly backoff: CrashLoopBackoff;
  restartCount = 0;
  current: Instance | undefined;
  lastTerminated: Terminated | undefined;
  /** Why the container is not running; undefined once it has exited for good. */
  waiting: { reason: string; message?: string } | undefined = { reason: 'ContainerCreating' };

  constructor(spec: V1Container, kind: ContainerKind, backoff: { initialMs: number; maxMs: number }) {
    this.name = spec.name;
    this.kind = kind;
    this.image = spec.image ?? '';
    this.backoff = new CrashLoopBackoff(backoff.initialMs, backoff.maxMs);
  }

  get running(): boolean {
    return this.current !== undefined && this.current.terminated === undefined;
  }

  /** The current instance's termination, when it has exited. */
  get exited(): Terminated | undefined {
    return this.current?.terminated;
  }

  /** The restart count the next instance will have: its log file is <index>.log. */
  get nextIndex(): number {
    return this.current === undefined ? 0 : this.restartCount + 1;
  }

  get started(): boolean {
    return this.running && (this.current?.probes?.started ?? true);
  }

  async start(spec: InstanceSpec, onExit: () => void): Promise<Instance> {
    if (this.current !== undefined) {
      if (this.current.terminated === undefined) throw new Error(`container ${this.name} is already running`);
      this.lastTerminated = this.current.terminated;
      this.restartCount++;
    }
    const sandbox = await startSandbox(spec.sandbox);
    const startedAt = Date.now();
    const containerID = `zcsp-sim://${randomBytes(32).toString('hex')}`;
    const instance: Instance = {
      containerID,
      startedAt,
      sandbox,
      env: spec.sandbox.env,
      probes: undefined,
      terminated: undefined,
      done: sandbox.exited.then(async (exit) => {
        const message = exit.startError ?? (await terminationMessage(spec, exit.exitCode));
        const terminated: Terminated = {
          exitCode: exit.exitCode,
          reason: exit.startError !== undefined ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
          ...(message !== '' && { message }),
          startedAt: apiTime(startedAt),
          finishedAt: apiTime(Date.now()),
          finishedAtMs: Date.now(),
          containerID,
        };
        instance.probes?.stop();
        instance.terminated = terminated;
        this.waiting = undefined;
        onExit();
        return terminated;
      }),
    };
    this.current = instance;
    this.waiting = undefined;
    return instance;
  }

  /**
   * Graceful stop of the running instance: the stop signal to its PID 1, SIGKILL at the
   * deadline. Resolves once it has exited.
   */
  async stop(deadline: Deadline, signal: NodeJS.Signals): Promise<void> {
    const instance = this.current;
    if (instance === undefined || instance.terminated !== undefined) return;
    instance.probes?.stop();
    const alive = (): boolean => instance.terminated === undefined;
    // Right after start the sandbox may not have forked the container yet: keep trying briefly.
    for (let i = 0; i < 20 && !instance.sandbox.signal(signal) && alive(); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.race([instance.done, deadline.reached]);
    if (alive()) instance.sandbox.kill();
    await instance.done;
  }

  /** SIGKILL now, without grace. */
  kill(): void {
    this.current?.probes?.stop();
    if (this.running) this.current?.sandbox.kill();
  }

  status(imageID: string): ContainerStatus {
    const base = { name: this.name, image: this.image, imageID, restartCount: this.restartCount };
    const instance = this.current;
    if (instance === undefined) {
      return { ...base, state: { waiting: this.waiting ?? { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false };
    }
    const previous: ContainerState = this.lastTerminated === undefined ? {} : { terminated: terminatedState(this.lastTerminated) };
    if (instance.terminated === undefined) {
      return {
        ...base,
        containerID: instance.containerID,
        state: { running: { startedAt: apiTime(instance.startedAt) } },
        lastState: previous,
        ready: instance.probes?.ready ?? true,
        started: instance.probes?.started ?? true,
      };
    }
    if (this.waiting !== undefined) {
      // Exited and going to be restarted: waiting, with this run as the last state.
      return { ...base, containerID: instance.containerID, state: { waiting: this.waiting }, lastState: { terminated: terminatedState(instance.terminated) }, ready: false, started: false };
    }
    return {
      ...base,
      containerID: instance.containerID,
      state: { terminated: terminatedState(instance.terminated) },
      lastState: previous,
      // A completed init container counts as ready, as the kubelet reports it.
      ready: this.kind === 'init' && instance.terminated.exitCode === 0,
      started: false,
    };
  }
}

function terminatedState(t: Terminated): NonNullable<ContainerState['terminated']> {
  return {
    exitCode: t.exitCode,
    reason: t.reason,
    ...(t.message !== undefined && { message: t.message }),
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    containerID: t.containerID,
  };
}

/** What the container wrote to its termination message file, or its last log lines (FallbackToLogsOnError). */
async function terminationMessage(spec: InstanceSpec, exitCode: number): Promise<string> {
  const written = await readFile(spec.terminationLogFile)
    .then((b) => b.subarray(0, TERMINATION_MESSAGE_LIMIT).toString('utf8'))
    .catch(() => '');
  if (written !== '' || exitCode === 0 || spec.terminationMessagePolicy !== 'FallbackToLogsOnError') return written;
  return readTailLines(spec.sandbox.logFile, 80, 2048);
}
