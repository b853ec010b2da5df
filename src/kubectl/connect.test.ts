import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError } from './errors.ts';
import { loadKubeConfig, namespaceOf } from './connect.ts';

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: { server: https://127.0.0.1:6443 }
users:
  - name: u
    user: { token: t }
contexts:
  - name: tenant
    context: { cluster: c, user: u, namespace: acme-prod }
  - name: bare
    context: { cluster: c, user: u }
current-context: tenant
`;

describe('kubeconfig and namespace', () => {
  it('takes --kubeconfig and --context, and the namespace from -n, else the context, else "default"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubectl-zcsp-'));
    try {
      const file = join(dir, 'config');
      await writeFile(file, kubeconfig);
      const kc = loadKubeConfig({ kubeconfig: file });
      assert.equal(kc.getCurrentContext(), 'tenant');
      assert.equal(namespaceOf(kc, undefined), 'acme-prod');
      assert.equal(namespaceOf(kc, 'other'), 'other');
      const bare = loadKubeConfig({ kubeconfig: file, context: 'bare' });
      assert.equal(bare.getCurrentContext(), 'bare');
      assert.equal(namespaceOf(bare, undefined), 'default');
      assert.throws(() => loadKubeConfig({ kubeconfig: file, context: 'nope' }), (e: unknown) => e instanceof CommandError && e.message === 'the kubeconfig has no context "nope"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
