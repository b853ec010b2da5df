// Child processes of the local cluster: every one carries the cluster's id in its environment
// (inherited by its own children), writes to a log file, runs in its own process group, and is
// killed by the kernel if the process that started it dies (setpriv --pdeathsig), so neither a
// failed test nor a killed runner leaves a control plane behind.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Environment variable that marks every process belonging to one local cluster. */
export const CLUSTER_ID_ENV = 'ZCSP_LOCAL_CLUSTER_ID';
/** Marks every process started during one `npm test` run (set by test/global-setup.ts). */
export const TEST_RUN_ENV = 'ZCSP_TEST_RUN_ID';
/** Markers a sandbox must pass through to its processes even when it clears the environment. */
export const MARKER_ENVS: readonly string[] = [CLUSTER_ID_ENV, TEST_RUN_ENV];

export interface ProcessSpec {
  /** Short name for messages, e.g. "etcd". */
  name: string;
  command: string;
  args: readonly string[];
  clusterId: string;
  logFile: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Keep running when the starting process dies (the background `cluster:up` supervisor). */
  survivesParent?: boolean;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited, whatever the reason. */
  readonly exited: Promise<ExitStatus>;
  readonly exitStatus: ExitStatus | undefined;
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export async function startProcess(spec: ProcessSpec): Promise<ManagedProcess> {
  await mkdir(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  const [command, args] = spec.survivesParent === true
    ? [spec.command, [...spec.args]]
    : ['setpriv', ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]];
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env, [CLUSTER_ID_ENV]: spec.clusterId },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`${spec.name}: cannot start ${spec.command}: ${err.message}`)));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: no pid after spawn`);
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    get exitStatus() {
      return status;
    },
    async stop(graceMs = 5000) {
      if (status !== undefined) return status;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      // Anything the process left in its group goes too.
      killGroup(pid, 'SIGKILL');
      return result;
    },
  };
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface ProcessInfo {
  pid: number;
  cmdline: string;
}

/**
 * Every live process marked with this cluster id, found through /proc: the ground truth for
 * "nothing is left behind", independent of what the harness thinks it started.
 */
export function findClusterProcesses(clusterId: string): ProcessInfo[] {
  return findMarkedProcesses(CLUSTER_ID_ENV, clusterId);
}

/**
 * Signals every process of a pod of this cluster (found by the POD_NAME its containers get):
 * SIGKILL for a crash, SIGSTOP/SIGCONT for a freeze. Returns how many it signalled.
 */
export function signalPodProcesses(clusterId: string, pod: string, signal: NodeJS.Signals): number {
  let n = 0;
  for (const p of findClusterProcesses(clusterId)) {
    try {
      if (!readFileSync(`/proc/${p.pid}/environ`, 'latin1').split('\0').includes(`POD_NAME=${pod}`)) continue;
      process.kill(p.pid, signal);
      n++;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

/** Every live process (zombies aside) whose environment has `name=value`. */
export function findMarkedProcesses(name: string, value: string): ProcessInfo[] {
  const marker = `${name}=${value}`;
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!environ.includes(marker)) continue;
      // Zombies have an empty cmdline and are not running anything.
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push({ pid, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim() });
    } catch {
      // The process exited while we looked, or is not ours to read.
    }
  }
  return found;
}

/** SIGKILLs every process of the cluster (last resort of teardown) and waits until none is left. */
export async function killClusterProcesses(clusterId: string, timeoutMs = 10_000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let left = findClusterProcesses(clusterId);
  while (left.length > 0 && Date.now() < deadline) {
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    left = findClusterProcesses(clusterId);
  }
  return left;
}
