// The kubelet's streaming endpoint for exec (`kubectl exec`, and any API client's pods/exec):
// HTTPS on the node IP at port 10250, where the API server reaches kubelets. The node declares
// ExtendWebSocketsToKubelet (node-status.ts), so the API server passes the client's WebSocket
// through instead of translating it to SPDY, which this kubelet does not speak. Channel protocols
// v5 and v4: each binary message starts with its stream (0 stdin, 1 stdout, 2 stderr, 3 the
// outcome as a metav1.Status, 255 in v5: a stream closed), as the kubelet's own wsstream frames
// them. The command runs in the container's namespaces with its environment (handlers.ts does
// the same for exec probes). Only the API server's client certificate gets in.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLUSTER_ID_ENV } from '../process.ts';
import { killGroup, nsenterArgs } from './handlers.ts';

export const KUBELET_PORT = 10250;
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

/** A running container to exec in: the host pid of its PID 1 and its environment. */
export interface ExecTarget {
  pid: number;
  env: Readonly<Record<string, string>>;
}

export interface ExecServerOptions {
  host: string;
  port?: number;
  tls: { certFile: string; keyFile: string; caFile: string };
  /** CN of the only client certificate let in: the API server's. */
  clientCN: string;
  clusterId: string;
  /** The container, when the pod is on this node and the container runs; else why not. */
  findTarget: (namespace: string, pod: string, container: string) => ExecTarget | string;
  logger: Logger;
}

export interface ExecServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/**
 * GET /exec/{namespace}/{pod}[/{uid}]/{container}?command=…&input=1&output=1&error=1&tty=1, checked:
 * the kubelet's names for stdin, stdout and stderr (ExecStdinParam and the rest in k8s.io/api),
 * which the API server writes when it passes a pods/exec request on.
 */
export function parseExecRequest(rawUrl: string): ExecRequest | { status: number; message: string } {
  const url = new URL(rawUrl, 'https://kubelet');
  const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (parts[0] !== 'exec' || parts.length < 4 || parts.length > 5 || parts.some((p) => p === '')) {
    return { status: 404, message: `no such kubelet endpoint: ${url.pathname}` };
  }
  const [, namespace = '', pod = '', ...rest] = parts;
  const container = rest.at(-1) ?? '';
  const flag = (name: string): boolean => ['1', 'true'].includes(url.searchParams.get(name)?.toLowerCase() ?? '');
  const command = url.searchParams.getAll('command');
  if (command.length === 0) return { status: 400, message: 'you must specify a command' };
  if (flag('tty')) return { status: 400, message: 'tty is not supported by the simulated kubelet' };
  const req = { namespace, pod, container, command, stdin: flag('input'), stdout: flag('output'), stderr: flag('error') };
  if (!req.stdin && !req.stdout && !req.stderr) return { status: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' };
  return req;
}

/** The outcome on the error stream, as the kubelet reports it (kubectl prints the message and exits with the code). */
export function exitStatus(command: readonly string[], code: number | null, signal: string | null): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  const exit = code ?? 128 + (signal === null ? 9 : signalNumber(signal));
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exit}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
  };
}

function signalNumber(signal: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 9;
}

export async function startExecServer(o: ExecServerOptions): Promise<ExecServer> {
  const [cert, key, ca] = await Promise.all([readFile(o.tls.certFile), readFile(o.tls.keyFile), readFile(o.tls.caFile)]);
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const running = new Set<ChildProcess>();
  const server: Server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('exec needs a WebSocket upgrade (channel protocol v4 or v5)\n');
  });

  const refuse = (socket: Duplex, status: number, message: string): void => {
    const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The TLS layer has already refused clients without a certificate of the cluster's CA.
    const subject = (socket as TLSSocket).getPeerCertificate().subject as { CN?: unknown } | undefined;
    if (subject?.CN !== o.clientCN) {
      refuse(socket, 403, `only the API server may exec here (client certificate CN ${JSON.stringify(subject?.CN ?? '')})`);
      return;
    }
    const parsed = parseExecRequest(req.url ?? '/');
    if ('status' in parsed) {
      refuse(socket, parsed.status, parsed.message);
      return;
    }
    const target = o.findTarget(parsed.namespace, parsed.pod, parsed.container);
    if (typeof target === 'string') {
      refuse(socket, 404, target);
      return;
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!PROTOCOLS.some((p) => offered.includes(p))) {
      refuse(socket, 400, `no supported channel protocol offered (${PROTOCOLS.join(', ')}): got "${offered.join(', ')}"`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => run(ws, parsed, target));
  });

  const run = (ws: WebSocket, r: ExecRequest, target: ExecTarget): void => {
    const log = o.logger.child({ exec: `${r.namespace}/${r.pod}/${r.container}` });
    const child = spawn('nsenter', nsenterArgs(target.pid, r.command), {
      env: { ...target.env, [CLUSTER_ID_ENV]: o.clusterId },
      stdio: [r.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    log.info({ command: r.command, pid: child.pid }, 'exec started');
    const send = (channel: number, data: Buffer): void => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), data]));
    };
    child.stdout?.on('data', (d: Buffer) => {
      if (r.stdout) send(STDOUT, d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (r.stderr) send(STDERR, d);
    });
    child.stdin?.on('error', () => undefined); // the command may exit without reading its input
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] === STDIN && r.stdin) child.stdin?.write(data.subarray(1));
      else if (data[0] === CLOSE && data[1] === STDIN) child.stdin?.end();
    });
    let exited = false;
    ws.on('close', () => {
      // The client went before the command ended: nothing is left running for it.
      if (!exited) killGroup(child.pid);
    });
    child.once('error', (err) => {
      exited = true;
      running.delete(child);
      send(ERROR, Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: `exec failed: ${err.message}`, reason: 'InternalError' })));
      ws.close(1000);
    });
    child.once('close', (code, signal) => {
      exited = true;
      running.delete(child);
      killGroup(child.pid);
      log.info({ code, signal }, 'exec ended');
      send(ERROR, Buffer.from(JSON.stringify(exitStatus(r.command, code, signal))));
      ws.close(1000);
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? KUBELET_PORT, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `https://${o.host}:${o.port ?? KUBELET_PORT}`,
    async close() {
      for (const c of running) killGroup(c.pid);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
