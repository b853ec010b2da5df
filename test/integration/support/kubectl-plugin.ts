// `kubectl zcsp` run for real: the cluster's kubectl finds bin/kubectl-zcsp on PATH, with this
// process's Node 24 beside it, as a user who installed the plugin has it.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../cluster/cluster.ts';

export interface PluginResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** PATH with the plugin and Node 24 first. */
export const pluginPath = (): string => `${join(REPO_ROOT, 'bin')}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;

/**
 * `kubectl zcsp ARGS` with `env` (PATH is set here); resolves when it exits. `running`, when
 * given, holds the child while it runs (for a test that must stop what is left).
 */
export function runPlugin(kubectl: string, args: readonly string[], env: NodeJS.ProcessEnv, running?: Set<ChildProcess>): Promise<PluginResult> {
  const child = spawn(kubectl, ['zcsp', ...args], { env: { ...env, PATH: pluginPath() }, stdio: ['ignore', 'pipe', 'pipe'] });
  running?.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      running?.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A run, for an assertion's message. */
export const showRun = (r: PluginResult): string => `exit ${r.code ?? 'signal'}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
