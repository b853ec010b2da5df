// `zcsp restore` as a real child process (src/main.ts on Node 24), as a restore pod runs it: the
// export's URL, its token and the VRA's certificate in files, a target path. Carries the pair's
// marker so Pair.close() kills it if a test leaves it running.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CLUSTER_ID_ENV } from '../../cluster/process.ts';
import type { Pair } from './pair.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/main.ts');

export interface CreatedExport {
  exportId: string;
  token: string;
  path: string;
  checkpoint: { seq: number; time: string; tag?: string };
  volume: string;
  kind: 'fs' | 'block';
  expiresAt: string;
  bytes: number;
  files: number;
  entries: number;
}

export interface RestoreRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line, parsed. */
  result: { ok: boolean; error?: string; bytes?: number; files?: number; seconds?: number; checkpoint?: { seq: number; time: string; tag?: string }; verified?: boolean };
  /** Wall time of the process, seconds. */
  seconds: number;
}

export interface RestoreArgs {
  export: Pick<CreatedExport, 'path' | 'token'>;
  into: string;
  /** Another port to reach the VRA's control port (a fault proxy); default the VRA's own. */
  port?: number;
  token?: string;
  verify?: boolean;
  /** --timeout-seconds (default 20). */
  timeoutSeconds?: number;
  /** Called once the process runs (to kill the VRA under it, say). */
  started?: () => void;
}

let runs = 0;

export async function runRestore(pair: Pair, a: RestoreArgs): Promise<RestoreRun> {
  const n = ++runs;
  const tokenFile = join(pair.dir, `restore-${n}.token`);
  const caFile = join(pair.dir, 'target-vra.crt');
  await writeFile(tokenFile, `${a.token ?? a.export.token}\n`, { mode: 0o600 });
  await writeFile(caFile, pair.target.cert);
  const url = `https://127.0.0.1:${a.port ?? pair.target.controlPort}${a.export.path}`;
  const args = [MAIN, 'restore', '--from', url, '--token-file', tokenFile, '--ca-file', caFile, '--into', a.into, '--progress-seconds', '1', '--timeout-seconds', String(a.timeoutSeconds ?? 20), ...(a.verify === true ? ['--verify'] : [])];
  const started = performance.now();
  const child = spawn(NODE, args, { env: { ...process.env, [CLUSTER_ID_ENV]: pair.clusterId }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  a.started?.();
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
  clearTimeout(timer);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let result: RestoreRun['result'] = { ok: false, error: `no JSON result on stdout (${JSON.stringify(last)})` };
  try {
    result = JSON.parse(last) as RestoreRun['result'];
  } catch {
    // keep the placeholder: the test prints stderr
  }
  return { code, stdout, stderr, result, seconds: (performance.now() - started) / 1000 };
}
