import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { EXAMPLE_STEPS, exampleFiles, InstallError, Installer, type InstallTarget } from './install.ts';

/** A cluster nothing answers for: every API call is refused. */
function unreachable(helm: () => Promise<string>): InstallTarget {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kubeConfig, kubeconfigPath: '/tmp/c/admin.kubeconfig', helm, kubectl: () => Promise.resolve('') };
}

describe('demo install steps', () => {
  it('apply every file of examples/, in the order of their names', () => {
    const steps = EXAMPLE_STEPS.map((s) => s.file);
    assert.deepEqual(steps, exampleFiles());
  });

  it('fail with what did not come up and the commands to look with', () => {
    const err = new InstallError('Zorg acme Ready: not there after 180 s', 'last seen: Ready=False', ['kubectl describe zorg acme'], '/tmp/c/admin.kubeconfig');
    assert.equal(err.message, [
      'Zorg acme Ready: not there after 180 s: last seen: Ready=False',
      'to look, in another shell:',
      '  export KUBECONFIG=/tmp/c/admin.kubeconfig',
      '  kubectl describe zorg acme',
    ].join('\n'));
  });

  it('a failed helm install names itself and points at the manager pods', async () => {
    const logged: string[] = [];
    const installer = new Installer(unreachable(() => Promise.reject(new Error('helm install zcsp … failed (exit 1): context deadline exceeded'))), { log: (m) => logged.push(m) });
    await assert.rejects(installer.run(), (err: unknown) => {
      assert.ok(err instanceof InstallError);
      assert.match(err.message, /^helm install zcsp failed: .*context deadline exceeded/);
      assert.match(err.message, /export KUBECONFIG=\/tmp\/c\/admin.kubeconfig\n {2}kubectl -n zcsp-system get pods\n/);
      assert.ok(err.look.some((l) => l.startsWith('kubectl -n zcsp-system logs')));
      return true;
    });
    assert.match(logged[0] ?? '', /^helm install zcsp deploy\/helm\/zcsp -n zcsp-system --create-namespace --wait/);
  });

  it('a wait that runs out says what it waited for and what it last saw', async () => {
    const logged: string[] = [];
    const installer = new Installer(unreachable(() => Promise.resolve('')), { log: (m) => logged.push(m), timeoutMs: 1200, progressMs: 500 });
    await assert.rejects(installer.installOperator(), (err: unknown) => {
      assert.ok(err instanceof InstallError);
      assert.match(err.message, /^a leading manager \(the Lease zcsp-manager\): not there after 1 s: last seen: .+/);
      return true;
    });
    assert.ok(logged.some((l) => l.includes('still waiting for a leading manager')), logged.join('\n'));
  });
});
