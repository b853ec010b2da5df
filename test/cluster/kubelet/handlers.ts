// The actions of probes and lifecycle hooks: httpGet, tcpSocket, exec (inside the container's
// namespaces via nsenter), and sleep. Messages follow the kubelet's so `kubectl describe` reads
// the same.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Container, V1ContainerPort, V1LifecycleHandler, V1Probe } from '@kubernetes/client-node';
import { CLUSTER_ID_ENV } from '../process.ts';

export interface HandlerOutcome {
  ok: boolean;
  message?: string;
}

export interface HandlerContext {
  /** Default host of httpGet and tcpSocket. */
  podIP: string;
  container: Pick<V1Container, 'name' | 'ports'>;
  /** Host pid of the container's PID 1, for exec; undefined when it is not running. */
  containerPid: () => number | undefined;
  /** The container's environment, which exec commands run with. */
  env: Readonly<Record<string, string>>;
  clusterId: string;
  kubeletVersion: string;
}

type Action = Pick<V1Probe, 'exec' | 'httpGet' | 'tcpSocket' | 'grpc'> & Pick<V1LifecycleHandler, 'sleep'>;

export async function runHandler(action: Action, ctx: HandlerContext, timeoutMs: number): Promise<HandlerOutcome> {
  try {
    if (action.httpGet !== undefined) return await httpGet(action.httpGet, ctx, timeoutMs);
    if (action.tcpSocket !== undefined) return await tcpSocket(action.tcpSocket, ctx, timeoutMs);
    if (action.exec !== undefined) return await exec(action.exec.command ?? [], ctx, timeoutMs);
    if (action.sleep !== undefined) {
      await new Promise((r) => setTimeout(r, Math.min(action.sleep?.seconds ?? 0, timeoutMs / 1000) * 1000));
      return { ok: true };
    }
    if (action.grpc !== undefined) return { ok: false, message: 'grpc probes are not supported by the simulated kubelet' };
    return { ok: false, message: 'no probe action (exec, httpGet, tcpSocket) given' };
  } catch (err: unknown) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** A named or numeric port of the container. */
export function resolvePort(port: number | string, ports: readonly V1ContainerPort[] | undefined): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = ports?.find((p) => p.name === port);
  if (found === undefined) throw new Error(`port "${port}" is not a named port of the container`);
  return found.containerPort;
}

function httpGet(action: NonNullable<Action['httpGet']>, ctx: HandlerContext, timeoutMs: number): Promise<HandlerOutcome> {
  const port = resolvePort(action.port, ctx.container.ports);
  const host = action.host !== undefined && action.host !== '' ? action.host : ctx.podIP;
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const path = action.path !== undefined && action.path !== '' ? (action.path.startsWith('/') ? action.path : `/${action.path}`) : '/';
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const url = `${scheme}://${hostPort}${path}`;
  const headers: Record<string, string> = { 'User-Agent': `kube-probe/${ctx.kubeletVersion}`, Accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  const request = scheme === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', headers, agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.once('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.once('error', (err) => resolve({ ok: false, message: describeDialError(`Get "${url}"`, hostPort, err) }));
    req.end();
  });
}

function tcpSocket(action: NonNullable<Action['tcpSocket']>, ctx: HandlerContext, timeoutMs: number): Promise<HandlerOutcome> {
  const port = resolvePort(action.port, ctx.container.ports);
  const host = action.host !== undefined && action.host !== '' ? action.host : ctx.podIP;
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once('error', (err) => resolve({ ok: false, message: describeDialError(undefined, `${host}:${port}`, err) }));
  });
}

/** "[Get "url": ]dial tcp host:port: connect: connection refused", as Go's net package words it. */
function describeDialError(prefix: string | undefined, hostPort: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === 'ECONNREFUSED' ? `dial tcp ${hostPort}: connect: connection refused` : err.message;
  return prefix === undefined ? detail : `${prefix}: ${detail}`;
}

/**
 * Runs a command in the container's mount, pid and uts namespaces (its root and working folder),
 * with the container's environment. Non-zero exit or timeout is a failure; the output is the message.
 */
async function exec(command: readonly string[], ctx: HandlerContext, timeoutMs: number): Promise<HandlerOutcome> {
  if (command.length === 0) return { ok: false, message: 'exec probe has no command' };
  // A container that is still starting (bwrap building its mounts) has no pid yet; a runtime's
  // exec waits for the start to finish rather than failing, so wait within the probe's timeout.
  const deadline = Date.now() + timeoutMs;
  let pid = ctx.containerPid();
  while (pid === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    pid = ctx.containerPid();
  }
  if (pid === undefined) return { ok: false, message: 'container is not running' };
  const target = pid;
  return new Promise((resolve) => {
    const child = spawn('nsenter', nsenterArgs(target, command), {
      env: { ...ctx.env, [CLUSTER_ID_ENV]: ctx.clusterId },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < 10_240) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      killGroup(child.pid);
      const text = output.trim();
      if (timedOut) resolve({ ok: false, message: `command timed out after ${timeoutMs / 1000}s` });
      else if (code === 0) resolve({ ok: true, ...(text !== '' && { message: text }) });
      else resolve({ ok: false, message: text !== '' ? text : `command exited with ${code ?? 'a signal'}` });
    });
  });
}

/** nsenter's arguments for a command in the namespaces, root and working folder of the container whose PID 1 is `pid`. */
export function nsenterArgs(pid: number, command: readonly string[]): string[] {
  return ['--target', String(pid), '--mount', '--pid', '--uts', '--root', '--wd', '--', ...command];
}

/** Kills a detached child's whole process group (what the command started too). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}
