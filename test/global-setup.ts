// Runs once around the whole `npm test` run (node --test --test-global-setup).
// Setup: builds or locates the control-plane binaries up front, so the first integration test
// does not spend its timeout compiling Kubernetes. Teardown: the ground truth that no process
// of any cluster started by this run is left (every one carries the run id in its environment).
import { randomBytes } from 'node:crypto';
import { resolveBinaries } from './cluster/binaries.ts';
import { TEST_RUN_ENV as RUN_ENV, findMarkedProcesses } from './cluster/process.ts';

export async function globalSetup(): Promise<void> {
  process.env[RUN_ENV] = randomBytes(6).toString('hex');
  await resolveBinaries({ build: true });
}

function leftovers(runId: string): string[] {
  return findMarkedProcesses(RUN_ENV, runId).map((p) => `${p.pid} ${p.cmdline}`);
}

export async function globalTeardown(): Promise<void> {
  const runId = process.env[RUN_ENV];
  if (runId === undefined) return;
  // Test files have exited; give the kernel a moment to deliver their pdeathsig kills.
  let left = leftovers(runId);
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(runId);
  }
  if (left.length > 0) {
    process.stderr.write(`\n✖ processes left running after the test run:\n  ${left.join('\n  ')}\n`);
    for (const line of left) {
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.exitCode = 1;
  }
}
