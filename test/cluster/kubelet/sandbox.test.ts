// Runs real bubblewrap sandboxes: needs root and bwrap (both present on the test machines).
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { findClusterProcesses } from '../process.ts';
import { runHandler, type HandlerContext } from './handlers.ts';
import { DEFAULT_CAPABILITIES, startSandbox, type Sandbox, type SandboxSpec } from './sandbox.ts';

function sandboxSupport(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs bubblewrap';
  }
  return false;
}

const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

describe('sandbox (real bubblewrap)', { skip: sandboxSupport() }, () => {
  const clusterId = `sandbox-test-${randomUUID()}`;
  let dir: string;
  let volume: string;
  let tokenDir: string;
  let hostnameFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zcsp-sandbox-'));
    volume = join(dir, 'volume');
    tokenDir = join(dir, 'token');
    hostnameFile = join(dir, 'hostname');
    await mkdir(volume);
    await mkdir(tokenDir);
    await writeFile(join(volume, 'hello'), 'from the volume\n');
    await writeFile(join(tokenDir, 'token'), 'fake-token');
    await writeFile(join(tokenDir, 'namespace'), 'shop');
    await writeFile(hostnameFile, 'web-0\n');
  });

  // A failed assertion must not leave a container running: it would keep this file's process
  // (and the whole run) waiting.
  const running: Sandbox[] = [];
  async function start(sandboxSpec: SandboxSpec): Promise<Sandbox> {
    const sandbox = await startSandbox(sandboxSpec);
    running.push(sandbox);
    return sandbox;
  }
  afterEach(async () => {
    for (const sandbox of running.splice(0)) {
      sandbox.kill();
      await sandbox.exited;
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function spec(name: string, script: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
    return {
      name: `test/${name}`,
      argv: ['/bin/sh', '-c', script],
      env: { PATH: '/usr/bin:/bin', POD_NAME: 'web-0' },
      workingDir: '/data',
      hostname: 'web-0',
      mounts: [
        { containerPath: '/data', source: volume, readOnly: false, kind: 'dir' },
        { containerPath: SA_PATH, source: tokenDir, readOnly: true, kind: 'dir' },
        { containerPath: '/etc/hostname', source: hostnameFile, readOnly: true, kind: 'file' },
      ],
      capabilities: DEFAULT_CAPABILITIES,
      logFile: join(dir, 'logs', `${name}.log`),
      clusterId,
      ...extra,
    };
  }

  it('shows the volumes at their container paths and creates nothing on the host', async () => {
    assert.equal(existsSync('/data'), false, 'precondition: the host has no /data');
    const script = [
      'cat /data/hello',
      `cat ${SA_PATH}/token; echo`,
      `cat ${SA_PATH}/namespace; echo`,
      'cat /etc/hostname',
      'hostname',
      'pwd',
      'echo "pid=$$"',
      'echo written > /data/written',
      `if touch ${SA_PATH}/new 2>/dev/null; then echo token-rw; else echo token-ro; fi`,
      'ls /proc | grep -c "^[0-9]"',
      'env | sort | grep -v "^PWD=\\|^SHLVL=\\|^_="',
    ].join('; ');
    const sandbox = await start(spec('volumes', script));
    const exit = await sandbox.exited;
    const log = await readFile(join(dir, 'logs', 'volumes.log'), 'utf8');
    assert.deepEqual(exit, { exitCode: 0 }, log);
    const lines = log.trimEnd().split('\n');
    // The last line counts the processes /proc shows: sh, ls and grep, nothing of the host.
    assert.deepEqual(lines.slice(0, 9), ['from the volume', 'fake-token', 'shop', 'web-0', 'web-0', '/data', 'pid=1', 'token-ro', '3']);
    // Only the container's own environment, plus the cluster marker every process carries.
    // (and the test run id, when the suite runs under the global setup).
    assert.deepEqual(lines.slice(9).filter((l) => !l.startsWith('ZCSP_TEST_RUN_ID=')), ['PATH=/usr/bin:/bin', 'POD_NAME=web-0', `ZCSP_LOCAL_CLUSTER_ID=${clusterId}`]);
    assert.equal(await readFile(join(volume, 'written'), 'utf8'), 'written\n');
    assert.equal(existsSync('/data'), false, 'no /data on the host');
    assert.equal(existsSync('/run/secrets/kubernetes.io'), false, 'no /run/secrets/kubernetes.io on the host');
  });

  it('reports the exit code, and 128+signal for a killed container', async () => {
    assert.deepEqual(await (await start(spec('exit7', 'exit 7'))).exited, { exitCode: 7 });

    // `sleep` as PID 1 ignores SIGTERM, as it would in a container; SIGKILL ends it.
    const stubborn = await start(spec('stubborn', 'exec sleep 60'));
    await waitFor(() => stubborn.containerPid() !== undefined);
    assert.equal(stubborn.signal('SIGTERM'), true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stubborn.exit, undefined, 'SIGTERM is ignored by a PID 1 without a handler');
    stubborn.kill();
    assert.equal((await stubborn.exited).exitCode, 137);

    const polite = await start(spec('polite', 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'));
    await waitFor(() => polite.containerPid() !== undefined);
    await new Promise((r) => setTimeout(r, 200));
    polite.signal('SIGTERM');
    assert.deepEqual(await polite.exited, { exitCode: 0 });
  });

  it('kills every process of the sandbox when PID 1 goes, leaving nothing behind', async () => {
    const sandbox = await start(spec('orphans', '(sleep 300 &); (sleep 300 &); exec sleep 300'));
    await waitFor(() => findClusterProcesses(clusterId).filter((p) => p.cmdline.startsWith('sleep 300')).length === 3);
    sandbox.kill();
    await sandbox.exited;
    await waitFor(() => findClusterProcesses(clusterId).length === 0);
  });

  it('runs exec probes inside the container: its mounts, hostname, pid namespace and env', async () => {
    const sandbox = await start(spec('exec', 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'));
    await waitFor(() => sandbox.containerPid() !== undefined);
    const ctx: HandlerContext = {
      podIP: '127.0.0.1',
      container: { name: 'exec' },
      containerPid: () => sandbox.containerPid(),
      env: { PATH: '/usr/bin:/bin', POD_NAME: 'web-0' },
      clusterId,
      kubeletVersion: 'v1.37.2',
    };
    const seen = await runHandler({ exec: { command: ['sh', '-c', 'cat /data/hello; hostname; echo $POD_NAME; pwd; cat /proc/1/cmdline | tr "\\0" " "'] } }, ctx, 5000);
    assert.equal(seen.ok, true, seen.message);
    assert.deepEqual(seen.message?.split('\n'), ['from the volume', 'web-0', 'web-0', '/data', '/bin/sh -c trap "exit 0" TERM; while :; do sleep 1 & wait $!; done']);
    assert.deepEqual(await runHandler({ exec: { command: ['sh', '-c', 'echo not yet; exit 1'] } }, ctx, 5000), { ok: false, message: 'not yet' });
    assert.deepEqual(await runHandler({ exec: { command: ['sleep', '10'] } }, ctx, 200), { ok: false, message: 'command timed out after 0.2s' });
    sandbox.signal('SIGTERM');
    assert.deepEqual(await sandbox.exited, { exitCode: 0 });
  });

  it('reports a command that cannot run as a start error', async () => {
    const sandbox = await start({ ...spec('missing', ''), argv: ['/no/such/binary'] });
    const exit = await sandbox.exited;
    assert.equal(exit.exitCode, 128);
    assert.match(exit.startError ?? '', /execvp \/no\/such\/binary: No such file or directory/);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
