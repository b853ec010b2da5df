// One container = one bubblewrap sandbox: its own mount namespace (planned by mount-plan.ts),
// its own pid namespace with the container's process as PID 1 (so when it exits, the kernel
// kills everything it left, and signals reach it as they would in a container: SIGTERM is
// ignored unless the process handles it), its own hostname. The network namespace is the host's:
// pods are told apart by their loopback IP (listen-preload.ts).
//
// The process tree is setpriv (pdeathsig) → bwrap (monitor, --die-with-parent) → container PID 1,
// all in one process group started by process.ts's startProcess, marked with the cluster id.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { MARKER_ENVS, startProcess, type ExitStatus, type ManagedProcess } from '../process.ts';
import { planMounts, toBwrapArgs, type EntryType, type FsView, type MountRequest } from './mount-plan.ts';
import { childPids, cmdline, parentPid } from './procfs.ts';
import { constants } from 'node:os';
import { readTailSync } from '../tail.ts';

export interface SandboxSpec {
  /** For messages: "<ns>/<pod>/<container>". */
  name: string;
  argv: readonly string[];
  /** The container's whole environment: nothing of this process's environment leaks in. */
  env: Readonly<Record<string, string>>;
  workingDir: string;
  hostname: string;
  mounts: readonly MountRequest[];
  /** Capabilities of the container's processes: "all" for privileged containers. */
  capabilities: readonly string[] | 'all';
  logFile: string;
  clusterId: string;
}

export interface ContainerExit {
  exitCode: number;
  /** Set when the container could not start at all (bad mount, command not found). */
  startError?: string;
}

export interface Sandbox {
  readonly name: string;
  /** Pid of bwrap, the leader of the sandbox's process group. */
  readonly pid: number;
  readonly exited: Promise<ContainerExit>;
  readonly exit: ContainerExit | undefined;
  /** Host pid of the container's PID 1, once the sandbox has started it. */
  containerPid(): number | undefined;
  /** Sends a signal to the container's PID 1 (the graceful stop). False if it is not running. */
  signal(signal: NodeJS.Signals): boolean;
  /** SIGKILL to everything in the sandbox. */
  kill(): void;
}

/** What Docker and containerd grant a non-privileged container. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Markers that must reach every pod process: the cluster id (findClusterProcesses) and the test
 * run id the global teardown looks for. Nothing else of this process's environment does.
 */
const MARKERS: ReadonlySet<string> = new Set(MARKER_ENVS);

/** The host's filesystem, as the mount plan reads it. */
export const hostFs: FsView = {
  lstat(path) {
    try {
      const st = lstatSync(path);
      const type: EntryType = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      return { type, mode: st.mode };
    } catch {
      return undefined;
    }
  },
  readlink: (path) => readlinkSync(path),
  readdir: (path) => readdirSync(path),
};

export function bwrapArgs(spec: SandboxSpec, fs: FsView = hostFs, inheritedEnv: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const caps = spec.capabilities === 'all' ? ['--cap-add', 'ALL'] : ['--cap-drop', 'ALL', ...spec.capabilities.flatMap((c) => ['--cap-add', c])];
  // startProcess passes this process's environment; take out all of it the container did not ask for.
  const unset = Object.keys(inheritedEnv)
    .filter((k) => !Object.hasOwn(spec.env, k) && !MARKERS.has(k))
    .flatMap((k) => ['--unsetenv', k]);
  return [
    '--die-with-parent',
    '--unshare-pid',
    '--as-pid-1',
    '--unshare-uts',
    '--hostname',
    spec.hostname,
    ...caps,
    ...toBwrapArgs(planMounts(spec.mounts, fs)),
    '--chdir',
    spec.workingDir,
    ...unset,
    '--',
    ...spec.argv,
  ];
}

export async function startSandbox(spec: SandboxSpec): Promise<Sandbox> {
  const args = bwrapArgs(spec);
  const proc: ManagedProcess = await startProcess({
    name: spec.name,
    command: 'bwrap',
    args,
    clusterId: spec.clusterId,
    logFile: spec.logFile,
    env: { ...spec.env },
  });
  let exit: ContainerExit | undefined;
  const exited = proc.exited.then((status) => {
    exit = toContainerExit(status, spec.logFile);
    return exit;
  });
  let cached: number | undefined;
  const containerPid = (): number | undefined => {
    if (exit !== undefined) return undefined;
    if (cached !== undefined && parentPid(cached) === proc.pid) return cached;
    cached = undefined;
    // bwrap's child exists while it still builds the mount tree; until it execs the command it
    // runs bwrap's own argv, and entering its namespaces then (an exec probe) finds a half-made root.
    const child = childPids(proc.pid)[0];
    if (child === undefined) return undefined;
    const own = cmdline(child);
    if (own === undefined || own === cmdline(proc.pid)) return undefined;
    cached = child;
    return cached;
  };
  const killGroup = (): void => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return {
    name: spec.name,
    pid: proc.pid,
    exited,
    get exit() {
      return exit;
    },
    containerPid,
    signal(signal) {
      const pid = containerPid();
      if (pid === undefined) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    kill: killGroup,
  };
}

/**
 * bwrap exits with its child's code, or 128+signal when the child was killed. bwrap itself
 * failing (a mount it cannot make, a command it cannot exec) exits 1 after a "bwrap: " line:
 * that is a start error (exit code 128, as runc reports it), not the container's own failure.
 */
function toContainerExit(status: ExitStatus, logFile: string): ContainerExit {
  if (status.signal !== null) return { exitCode: 128 + (constants.signals[status.signal]) };
  const code = status.code ?? 1;
  if (code === 1) {
    const last = lastLine(logFile);
    if (last.startsWith('bwrap: ')) return { exitCode: 128, startError: last.slice('bwrap: '.length) };
  }
  return { exitCode: code };
}

function lastLine(file: string): string {
  return readTailSync(file, 4096).trimEnd().split('\n').at(-1) ?? '';
}
