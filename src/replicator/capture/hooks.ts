// Commands run around a pass: a pre hook makes the volumes consistent (fsfreeze, a database
// flush), a post hook undoes it. A hook runs in its own process group so a timeout kills the
// command and everything it started.
import { spawn } from 'node:child_process';

export interface HookSpec {
  /** argv: the program and its arguments (no shell unless you run one). */
  command: string[];
  /** Default 30 s. */
  timeoutMs?: number | undefined;
  /** Added to the VRA's environment. */
  env?: Record<string, string> | undefined;
}

export type HookErrorCode = 'HOOK_FAILED' | 'HOOK_TIMEOUT' | 'HOOK_SPAWN';

export class HookError extends Error {
  override readonly name = 'HookError';
  readonly code: HookErrorCode;
  constructor(code: HookErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const STDERR_KEEP = 2048;

export function runHook(which: string, spec: HookSpec): Promise<void> {
  const [program, ...args] = spec.command;
  const timeoutMs = spec.timeoutMs ?? 30_000;
  const name = `${which} hook ${JSON.stringify(spec.command.join(' ').slice(0, 200))}`;
  if (program === undefined || program === '') return Promise.reject(new HookError('HOOK_SPAWN', `${name}: the command is empty`));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (err: HookError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stderr.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_KEEP);
    });
    child.stderr.on('error', () => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (err) => finish(new HookError('HOOK_SPAWN', `${name} could not start: ${err.message}`)));
    child.on('exit', (code, signal) => {
      const tail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
      if (timedOut) finish(new HookError('HOOK_TIMEOUT', `${name} did not finish within ${timeoutMs} ms and was killed${tail}`));
      else if (code === 0) finish(undefined);
      else finish(new HookError('HOOK_FAILED', `${name} ${code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`}${tail}`));
    });
  });
}
