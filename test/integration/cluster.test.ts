// What the local cluster must do for everything built on it: a real API server with CRDs and
// RBAC, real controllers (GC, namespaces, PV binding), the scheduler placing pods on simulated
// nodes whose kubelet runs them as processes, the provisioner, and helm.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api,
  PatchStrategy, setHeaderOptions, type V1Pod,
} from '@kubernetes/client-node';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { findClusterProcesses } from '../cluster/process.ts';
import { waitFor } from '../cluster/net.ts';

const statusCode = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;

describe('local cluster', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 5000 } });
    process.stdout.write(`# local cluster with ${cluster.nodes.length} nodes ready in ${Date.now() - t0} ms\n`);
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  });

  after(async () => {
    const id = cluster.id;
    await cluster.stop();
    assert.deepEqual(findClusterProcesses(id), [], 'no process of the cluster is left');
  });

  async function namespace(name: string): Promise<void> {
    await core.createNamespace({ body: { metadata: { name } } });
    await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata !== undefined,
      { what: `default service account in ${name}`, timeoutMs: 30_000 });
  }

  async function readyPod(namespace: string, selector: string): Promise<V1Pod> {
    let pod: V1Pod | undefined;
    await waitFor(async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
      pod = pods.items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return pod !== undefined;
    }, { what: `a Ready pod ${selector} in ${namespace}`, timeoutMs: 90_000, intervalMs: 250 });
    return pod as V1Pod;
  }

  it('serves a CRD with the status subresource', async () => {
    const ext = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.test.zcsp.io' },
        spec: {
          group: 'test.zcsp.io',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [{
            name: 'v1', served: true, storage: true, subresources: { status: {} },
            schema: { openAPIV3Schema: { type: 'object', properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            } } },
          }],
        },
      },
    });
    await waitFor(async () => (await ext.readCustomResourceDefinition({ name: 'widgets.test.zcsp.io' }))
      .status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true,
    { what: 'CRD established', timeoutMs: 30_000 });
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = { group: 'test.zcsp.io', version: 'v1', namespace: 'default', plural: 'widgets' };
    await waitFor(async () => {
      try {
        await custom.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'test.zcsp.io/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 }, status: { phase: 'ignored' } } });
        return true;
      } catch (err: unknown) {
        if (statusCode(err) === 404) return false; // discovery not caught up yet
        throw err;
      }
    }, { what: 'create Widget', timeoutMs: 30_000 });
    const created = (await custom.getNamespacedCustomObject({ ...ref, name: 'w1' })) as { status?: unknown; spec: { size: number } };
    assert.equal(created.spec.size, 3);
    assert.equal(created.status, undefined, 'status is not writable through the main resource');
    await custom.patchNamespacedCustomObjectStatus({ ...ref, name: 'w1', body: { status: { phase: 'Ready' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const patched = (await custom.getNamespacedCustomObject({ ...ref, name: 'w1' })) as { status?: { phase?: string } };
    assert.equal(patched.status?.phase, 'Ready');
  });

  it('runs a Deployment of the project image as a process answering on its pod IP', async () => {
    await namespace('apps');
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'apps',
      body: {
        metadata: { name: 'diag' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'diag' } },
          template: {
            metadata: { labels: { app: 'diag' } },
            spec: { containers: [{
              name: 'diag', image: 'ghcr.io/zcsp/zcsp:dev', args: ['diag', '--port', '8080'],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            }] },
          },
        },
      },
    });
    const pod = await readyPod('apps', 'app=diag');
    const podIP = pod.status?.podIP ?? '';
    assert.match(podIP, /^127\.\d+\.\d+\.\d+$/);
    assert.ok(cluster.nodes.some((n) => n.name === pod.spec?.nodeName), 'scheduled onto a simulated node');
    const res = await fetch(`http://${podIP}:8080/`);
    const body = (await res.json()) as { pod: string; node: string };
    assert.equal(body.pod, pod.metadata?.name);
    assert.equal(body.node, pod.spec?.nodeName);
  });

  it('binds a PVC through the provisioner; what the pod writes lands in the PV host path', async () => {
    await namespace('storage');
    await core.createNamespacedPersistentVolumeClaim({
      namespace: 'storage',
      body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    await core.createNamespacedPod({
      namespace: 'storage',
      body: {
        metadata: { name: 'writer', labels: { app: 'writer' } },
        spec: {
          containers: [{
            name: 'writer', image: 'zcsp:dev', args: ['diag', '--port', '8080', '--stamp', '/data/stamp.json'],
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
          }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    });
    const pod = await readyPod('storage', 'app=writer');
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'storage' });
    assert.equal(pvc.status?.phase, 'Bound');
    assert.equal(pvc.spec?.storageClassName, 'zcsp-local', 'the default StorageClass applies');
    const pv = await core.readPersistentVolume({ name: pvc.spec.volumeName ?? '' });
    const node = pod.spec?.nodeName ?? '';
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, [node],
      'provisioned on the node the scheduler picked (WaitForFirstConsumer)');
    const stamp = JSON.parse(await readFile(cluster.nodePath(node, `${pv.spec.hostPath?.path ?? ''}/stamp.json`), 'utf8')) as { pod: string };
    assert.equal(stamp.pod, 'writer');

    // Deleting the claim releases the volume; reclaimPolicy Delete removes it and its data.
    await core.deleteNamespacedPod({ name: 'writer', namespace: 'storage' });
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'storage' });
    await waitFor(async () => {
      try {
        await core.readPersistentVolume({ name: pv.metadata?.name ?? '' });
        return false;
      } catch (err: unknown) {
        return statusCode(err) === 404;
      }
    }, { what: 'PV deleted after release', timeoutMs: 90_000, intervalMs: 250 });
  });

  it('completes namespace deletion and garbage-collects owned objects', async () => {
    await namespace('doomed');
    const owner = await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'owner' }, data: { a: '1' } } });
    await core.createNamespacedConfigMap({
      namespace: 'doomed',
      body: {
        metadata: { name: 'child', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }] },
        data: { b: '2' },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'doomed', propagationPolicy: 'Background' });
    await waitFor(async () => {
      const list = await core.listNamespacedConfigMap({ namespace: 'doomed' });
      return !list.items.some((c) => c.metadata?.name === 'child');
    }, { what: 'child garbage-collected', timeoutMs: 60_000, intervalMs: 250 });

    await core.deleteNamespace({ name: 'doomed' });
    await waitFor(async () => {
      try {
        await core.readNamespace({ name: 'doomed' });
        return false;
      } catch (err: unknown) {
        return statusCode(err) === 404;
      }
    }, { what: 'namespace deletion completes', timeoutMs: 90_000, intervalMs: 250 });
  });

  it('refuses a user without rights (403) and admits them after a RoleBinding', async () => {
    await namespace('tenant-a');
    const alice = await cluster.user('alice', ['tenant-a-admins']);
    const asAlice = alice.kubeConfig.makeApiClient(CoreV1Api);
    await assert.rejects(asAlice.listNamespacedConfigMap({ namespace: 'tenant-a' }), (err: unknown) => statusCode(err) === 403);
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'tenant-a',
      body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'tenant-a',
      body: {
        metadata: { name: 'admins-read-cm' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'tenant-a-admins' }],
      },
    });
    await waitFor(async () => (await asAlice.listNamespacedConfigMap({ namespace: 'tenant-a' })).items.length >= 0,
      { what: 'alice may list configmaps', timeoutMs: 10_000 });
    // The grant is exactly what the Role says: other namespaces and other verbs stay closed.
    await assert.rejects(asAlice.listNamespacedConfigMap({ namespace: 'default' }), (err: unknown) => statusCode(err) === 403);
    await assert.rejects(asAlice.createNamespacedConfigMap({ namespace: 'tenant-a', body: { metadata: { name: 'x' } } }),
      (err: unknown) => statusCode(err) === 403);
    // kubectl sees the same identity.
    const out = await cluster.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'tenant-a'], { kubeconfig: alice.kubeconfigPath });
    assert.equal(out.trim(), 'yes');
  });

  it('installs a chart with helm and waits for its workload', async () => {
    const chart = fileURLToPath(new URL('../fixtures/charts/hello', import.meta.url));
    await cluster.helm(['install', 'hello', chart, '--namespace', 'helm-test', '--create-namespace', '--wait', '--timeout', '120s']);
    const list = JSON.parse(await cluster.helm(['list', '--namespace', 'helm-test', '--output', 'json'])) as { name: string; status: string }[];
    assert.deepEqual(list.map((r) => [r.name, r.status]), [['hello', 'deployed']]);
    const pod = await readyPod('helm-test', 'app=hello');
    assert.ok(pod.status?.podIP !== undefined);
    await cluster.helm(['uninstall', 'hello', '--namespace', 'helm-test', '--wait']);
  });
});
