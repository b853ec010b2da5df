// However the process that owns a cluster ends, no process of the cluster outlives it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { findClusterProcesses } from '../cluster/process.ts';
import { waitFor } from '../cluster/net.ts';

const owner = fileURLToPath(new URL('../fixtures/cluster-owner.ts', import.meta.url));

async function startOwner(): Promise<{ child: ChildProcess; id: string; dir: string }> {
  const child = spawn(process.execPath, [owner], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`cluster owner exited early (${code})`)));
  });
  const { id, dir } = JSON.parse(line) as { id: string; dir: string };
  // etcd, apiserver, controller-manager, scheduler, and the pod's sandbox and process.
  assert.ok(findClusterProcesses(id).length >= 5, 'the cluster and its pod are running');
  return { child, id, dir };
}

const gone = (id: string): Promise<void> =>
  waitFor(() => Promise.resolve(findClusterProcesses(id).length === 0), { what: 'all cluster processes gone', timeoutMs: 30_000 });

describe('cluster teardown', { timeout: 300_000 }, () => {
  it('stops everything and removes its folder when the owner is interrupted (SIGINT)', async () => {
    const { child, id, dir } = await startOwner();
    child.kill('SIGINT');
    await gone(id);
    await waitFor(() => Promise.resolve(child.exitCode !== null || child.signalCode !== null), { what: 'owner exits', timeoutMs: 30_000 });
    assert.equal(existsSync(dir), false, 'the temp folder is removed');
  });

  it('leaves nothing running when the owner is killed outright (SIGKILL)', async () => {
    const { child, id, dir } = await startOwner();
    child.kill('SIGKILL');
    await gone(id);
    await rm(dir, { recursive: true, force: true }); // nobody was left to remove it
  });
});
