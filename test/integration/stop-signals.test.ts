// A zcsp process as a container runs it: PID 1 of its own pid namespace (bubblewrap, as the local
// cluster's kubelet starts containers), stopped with SIGTERM from outside. PID 1 ignores a signal
// it has no handler for, so a stop signal must be handled from the process's first moment.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../cluster/cluster.ts';
import { childPids } from '../cluster/kubelet/procfs.ts';

const MAIN = join(REPO_ROOT, 'src/main.ts');

interface Pid1 {
  bwrap: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `zcsp ARGS` as PID 1 of a new pid namespace; bwrap exits with its status. */
function startAsPid1(args: readonly string[], nodeOptions: readonly string[] = []): Pid1 {
  const argv = ['--dev-bind', '/', '/', '--unshare-pid', '--as-pid-1', '--die-with-parent', process.execPath, ...nodeOptions, MAIN, ...args];
  const bwrap = spawn('bwrap', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  bwrap.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  bwrap.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => bwrap.once('exit', (code) => resolve(code)));
  return { bwrap, output: () => output, exited };
}

/** Whether the process has a handler for SIGTERM (bit 15 of SigCgt). */
function catchesTerm(pid: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

/** The exit status, or a failure naming what the process printed if it outlives `ms`. */
async function exitWithin(p: Pid1, ms: number): Promise<number | null> {
  const timer = setTimeout(() => p.bwrap.kill('SIGKILL'), ms);
  try {
    const code = await p.exited;
    assert.ok(p.bwrap.signalCode === null, `still running ${ms} ms after SIGTERM; output: ${p.output()}`);
    return code;
  } finally {
    clearTimeout(timer);
  }
}

describe('stop signals to a zcsp process that is PID 1', () => {
  it('keeps a SIGTERM that comes while it still loads its command: the command then shuts down at once', async () => {
    // A preload holds the load of the command's modules until the test opens the gate: the
    // signal comes exactly while the process starts, as when a pod is deleted right after start.
    // Without a listener from the first moment, Node would raise it again with the default
    // action, which PID 1 ignores: the command would run on until SIGKILL.
    const dir = await mkdtemp(join(tmpdir(), 'zcsp-stop-signals-'));
    try {
      const gate = join(dir, 'gate');
      execFileSync('mkfifo', [gate]);
      const preload = join(dir, 'hold.mjs');
      await writeFile(preload, `import { registerHooks } from 'node:module';
import { readFileSync } from 'node:fs';
registerHooks({ load(url, context, nextLoad) {
  // Node's own handler does not restart a read it interrupts: wait on.
  for (let open = url.endsWith('/src/cli/run.ts'); open;) {
    try { readFileSync(${JSON.stringify(gate)}); open = false; } catch (err) { if (err.code !== 'EINTR') throw err; }
  }
  return nextLoad(url, context);
} });
`);
      const p = startAsPid1(['diag', '--port', '0'], ['--import', preload]);
      const writer = await open(gate, 'w'); // returns once the process waits at the gate
      const pid = childPids(p.bwrap.pid ?? 0)[0] ?? 0;
      assert.ok(catchesTerm(pid), 'PID 1 handles SIGTERM');
      process.kill(pid, 'SIGTERM');
      await writer.close();
      // The signal waited for the event loop, which first turns once diag listens itself.
      assert.equal(await exitWithin(p, 10_000), 0, p.output());
      assert.match(p.output(), /diag: shutting down/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves a started command to shut down on its own terms', async () => {
    const p = startAsPid1(['diag', '--port', '0']);
    const deadline = Date.now() + 20_000;
    while (!p.output().includes('diag: listening')) {
      if (Date.now() > deadline) throw new Error(`diag never listened: ${p.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(childPids(p.bwrap.pid ?? 0)[0] ?? 0, 'SIGTERM');
    assert.equal(await exitWithin(p, 10_000), 0);
    assert.match(p.output(), /diag: shutting down/);
  });
});
