// `npm run cluster:up` / `cluster:down` as a person uses them: up returns with the cluster running
// in the background and `export KUBECONFIG=…` as its last line; kubectl works; down leaves nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveBinaries } from '../cluster/binaries.ts';
import { findClusterProcesses } from '../cluster/process.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../cluster/cli.ts', import.meta.url));

describe('cluster:up and cluster:down', { timeout: 300_000 }, () => {
  it('starts a cluster in the background, serves kubectl, and stops without a trace', async () => {
    // `down` removes the cluster's folder itself; the one made for it here goes at the end.
    const parent = await mkdtemp(join(tmpdir(), 'zcsp-cli-'));
    const dir = join(parent, 'cluster');
    const env = { ...process.env, ZCSP_CLUSTER_DIR: dir };
    const up = await run(process.execPath, [cli, 'up'], { env });
    const lines = up.stdout.trimEnd().split('\n');
    const last = lines.at(-1) ?? '';
    assert.match(last, /^export KUBECONFIG=\/.+/);
    const kubeconfig = last.slice('export KUBECONFIG='.length);
    const state = JSON.parse(readFileSync(join(dir, 'supervisor.json'), 'utf8')) as { clusterId: string };
    try {
      const { kubectl } = await resolveBinaries({ build: false });
      const nodes = await run(kubectl, ['get', 'nodes', '-l', 'zcsp.io/site', '-o', 'name'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
      assert.deepEqual(nodes.stdout.trim().split('\n').sort(), ['node/dr-1', 'node/dr-2', 'node/prod-1', 'node/prod-2']);
      // A second `up` sees the running cluster and hands out the same kubeconfig.
      const again = await run(process.execPath, [cli, 'up'], { env });
      assert.equal(again.stdout.trimEnd().split('\n').at(-1), last);
      const status = await run(process.execPath, [cli, 'status'], { env });
      assert.match(status.stdout, /^ready: https:\/\/127\.0\.0\.1:\d+/);
    } finally {
      const down = await run(process.execPath, [cli, 'down'], { env });
      assert.match(down.stdout, /nothing of it is running/);
    }
    assert.deepEqual(findClusterProcesses(state.clusterId), []);
    assert.equal(existsSync(dir), false);
    await assert.rejects(run(process.execPath, [cli, 'status'], { env }), /no local cluster is running/);
    await rm(parent, { recursive: true });
  });
});
