// A real `zcsp vra` process for the data-plane tests: started from src/main.ts with Node 24, ports
// chosen by the kernel (read back from its first line), its control API called with the pinned
// certificate and the bearer token, as the operator does. Carries the test markers and dies with
// the test process (test/cluster/process.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { startProcess, type ExitStatus, type ManagedProcess } from '../../cluster/process.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/main.ts');

export interface VraProcessOptions {
  name: string;
  dataDir: string;
  /** Marks the processes (findClusterProcesses). */
  clusterId: string;
  logDir: string;
  materialiseRoots?: readonly string[];
}

export interface ControlResponse<T = unknown> {
  status: number;
  body: T;
}

export class VraProcess {
  readonly options: VraProcessOptions;
  readonly token: string;
  #proc: ManagedProcess | undefined;
  #ports: { replication: number; control: number; health: number } | undefined;
  /** A restarted VRA listens where it did before, as a pod's fixed ports do. */
  #lastPorts: { replication: number; control: number; health: number } | undefined;
  #cert: string | undefined;
  #starts = 0;

  constructor(options: VraProcessOptions) {
    this.options = options;
    this.token = randomBytes(24).toString('hex');
  }

  get pid(): number {
    if (this.#proc === undefined) throw new Error(`${this.options.name} is not running`);
    return this.#proc.pid;
  }

  get replicationPort(): number {
    if (this.#ports === undefined) throw new Error(`${this.options.name} is not running`);
    return this.#ports.replication;
  }

  /** The control port (HTTPS): exports are downloaded from it too. */
  get controlPort(): number {
    if (this.#ports === undefined) throw new Error(`${this.options.name} is not running`);
    return this.#ports.control;
  }

  get healthUrl(): string {
    if (this.#ports === undefined) throw new Error(`${this.options.name} is not running`);
    return `http://127.0.0.1:${this.#ports.health}`;
  }

  /** The VRA's certificate (what sources pin). */
  get cert(): string {
    this.#cert ??= readFileSync(join(this.options.dataDir, 'tls', 'tls.crt'), 'utf8');
    return this.#cert;
  }

  /** The log of the current (or last) run: each start writes its own. */
  get logFile(): string {
    return join(this.options.logDir, `${this.options.name}-${this.#starts}.log`);
  }

  async start(): Promise<void> {
    const tokenFile = join(this.options.dataDir, '..', `${this.options.name}.token`);
    await mkdir(this.options.dataDir, { recursive: true });
    await writeFile(tokenFile, this.token, { mode: 0o600 });
    this.#starts++;
    const logFile = join(this.options.logDir, `${this.options.name}-${this.#starts}.log`);
    const p = this.#lastPorts;
    const args = [MAIN, 'vra', '--host', '127.0.0.1', '--port', String(p?.replication ?? 0), '--control-port', String(p?.control ?? 0), '--health-port', String(p?.health ?? 0),
      '--data-dir', this.options.dataDir, '--control-token-file', tokenFile, '--node', this.options.name, '--site', 'test',
      ...(this.options.materialiseRoots ?? []).flatMap((r) => ['--materialise-root', r])];
    this.#proc = await startProcess({ name: this.options.name, command: NODE, args, clusterId: this.options.clusterId, logFile, env: { LOG_LEVEL: 'info' } });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      const m = /vra: replication on port (\d+), control https:\/\/[^:]+:(\d+), health http:\/\/[^:]+:(\d+)/.exec(text);
      if (m !== null) {
        this.#ports = { replication: Number(m[1]), control: Number(m[2]), health: Number(m[3]) };
        this.#lastPorts = this.#ports;
        return;
      }
      if (this.#proc.exitStatus !== undefined) throw new Error(`${this.options.name} exited at start (${JSON.stringify(this.#proc.exitStatus)}):\n${text}`);
      if (Date.now() > deadline) throw new Error(`${this.options.name} did not start within 30 s:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no chance to flush or close anything. */
  async kill(): Promise<ExitStatus> {
    const proc = this.#proc;
    if (proc === undefined) throw new Error(`${this.options.name} is not running`);
    process.kill(proc.pid, 'SIGKILL');
    const status = await proc.exited;
    this.#proc = undefined;
    this.#ports = undefined;
    return status;
  }

  async stop(): Promise<ExitStatus | undefined> {
    const proc = this.#proc;
    this.#proc = undefined;
    this.#ports = undefined;
    return proc?.stop(10_000);
  }

  /** Calls the control API; resolves with any status (tests check refusals too). */
  control<T = unknown>(method: string, path: string, body?: unknown, token = this.token): Promise<ControlResponse<T>> {
    if (this.#ports === undefined) return Promise.reject(new Error(`${this.options.name} is not running`));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolvePromise, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: this.#ports?.control,
        path,
        method,
        ca: this.cert,
        servername: 'vra.zcsp.io',
        headers: { authorization: `Bearer ${token}`, ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': payload.length }) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolvePromise({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like control(), but any status other than 2xx is an error naming the answer. */
  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.control<T>(method, path, body);
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} on ${this.options.name}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}
