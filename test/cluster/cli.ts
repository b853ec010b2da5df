// `npm run cluster:up | cluster:down | cluster:status`: a local cluster for people to poke at with
// kubectl. `up` starts a supervisor process in the background that owns the cluster (every
// cluster process dies with it), waits until the cluster is ready and returns; `down` stops the
// supervisor, makes sure nothing of the cluster is left running and removes its folder.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from './cluster.ts';
import { killClusterProcesses } from './process.ts';

const dir = process.env['ZCSP_CLUSTER_DIR'] ?? join(tmpdir(), 'zcsp-local-cluster');
const stateFile = join(dir, 'supervisor.json');
const supervisorLog = join(dir, 'supervisor.log');

interface SupervisorState {
  pid: number;
  phase: 'starting' | 'ready' | 'failed';
  clusterId?: string;
  kubeconfig?: string;
  server?: string;
  error?: string;
}

function readState(): SupervisorState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as SupervisorState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Copies the complete lines a log gained past `offset` to stdout, indented; returns the new offset. */
function relay(file: string, offset: number): number {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return offset;
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    const text = buffer.toString('utf8');
    const complete = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(0, complete).split('\n')) if (line !== '') process.stdout.write(`  ${line}\n`);
    return offset + Buffer.byteLength(text.slice(0, complete));
  } finally {
    closeSync(fd);
  }
}

async function up(): Promise<number> {
  const current = readState();
  if (current !== undefined && alive(current.pid) && current.phase === 'ready' && current.kubeconfig !== undefined) {
    process.stdout.write(`local cluster already running (supervisor pid ${current.pid}, ${current.server ?? ''})\n`);
    process.stdout.write(`export KUBECONFIG=${current.kubeconfig}\n`);
    return 0;
  }
  if (current !== undefined && alive(current.pid)) {
    process.stderr.write(`a local cluster is ${current.phase} under pid ${current.pid}; run \`npm run cluster:down\` first\n`);
    return 1;
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const out = openSync(supervisorLog, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'supervise'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ZCSP_CLUSTER_DIR: dir },
  });
  closeSync(out);
  child.unref();
  process.stdout.write(`starting local cluster in ${dir} (log: ${supervisorLog})\n`);
  let offset = 0;
  for (;;) {
    await sleep(250);
    // Relay what the supervisor logged since last time, so a first run that builds binaries is not silent.
    offset = relay(supervisorLog, offset);
    const state = readState();
    if (state?.phase === 'ready' && state.kubeconfig !== undefined) {
      process.stdout.write(`local cluster ready: ${state.server ?? ''}; stop it with \`npm run cluster:down\`\n`);
      process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
      return 0;
    }
    if (state?.phase === 'failed' || child.exitCode !== null || (child.pid !== undefined && !alive(child.pid))) {
      process.stderr.write(`local cluster failed to start: ${state?.error ?? 'supervisor exited'}\n`);
      return 1;
    }
  }
}

async function supervise(): Promise<number> {
  const write = (s: SupervisorState): Promise<void> => writeFile(stateFile, JSON.stringify(s, null, 2));
  await write({ pid: process.pid, phase: 'starting' });
  try {
    const cluster = await startCluster({ dir, log: (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`) });
    await write({ pid: process.pid, phase: 'ready', clusterId: cluster.id, kubeconfig: cluster.kubeconfigPath, server: cluster.server });
    // Runs until SIGTERM/SIGINT: the handlers installed by startCluster stop the cluster and exit.
    setInterval(() => undefined, 1 << 30);
    return await new Promise<number>(() => undefined);
  } catch (err: unknown) {
    await write({ pid: process.pid, phase: 'failed', error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
}

async function down(): Promise<number> {
  const state = readState();
  if (state === undefined) {
    process.stdout.write('no local cluster is running\n');
    await rm(dir, { recursive: true, force: true });
    return 0;
  }
  if (alive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    for (let i = 0; i < 300 && alive(state.pid); i++) await sleep(100);
    if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  const left = state.clusterId !== undefined ? await killClusterProcesses(state.clusterId) : [];
  if (left.length > 0) {
    process.stderr.write(`could not stop: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}\n`);
    return 1;
  }
  await rm(dir, { recursive: true, force: true });
  process.stdout.write('local cluster stopped; nothing of it is running\n');
  return 0;
}

function status(): number {
  const state = readState();
  if (state === undefined || !alive(state.pid)) {
    process.stderr.write('no local cluster is running\n');
    return 1;
  }
  process.stdout.write(`${state.phase}: ${state.server ?? ''} (supervisor pid ${state.pid})\n`);
  if (state.kubeconfig !== undefined) process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
  return 0;
}

const command = process.argv[2];
const commands: Record<string, () => Promise<number> | number> = { up, down, status, supervise };
const handler = command === undefined ? undefined : commands[command];
if (handler === undefined) {
  process.stderr.write('usage: cli.ts up|down|status\n');
  process.exitCode = 2;
} else {
  if (command === 'supervise' && !existsSync(dir)) await mkdir(dir, { recursive: true });
  process.exitCode = await handler();
}
