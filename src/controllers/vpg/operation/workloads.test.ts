import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, StatefulSet } from '../../../kube/objects.ts';
import { bootGroups, isWorkloadReady, recoveredWorkload } from './workloads.ts';

const vpg = { namespace: 'acme-prod', name: 'web', uid: 'u-1' };
const deployment = (name: string, labels: Record<string, string> = {}): Deployment => ({
  metadata: {
    name, namespace: 'acme-prod', uid: `uid-${name}`, resourceVersion: '42', generation: 3, labels,
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '7', team: 'shop' },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        nodeSelector: { 'zcsp.io/site': 'prod' },
        nodeName: 'prod-1',
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } }, podAntiAffinity: {} },
        containers: [{ name: 'app', image: 'app:1' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }],
      },
    },
  },
  status: { readyReplicas: 2, observedGeneration: 3 },
});

const sts: StatefulSet = { metadata: { name: 'pg' }, spec: { selector: {}, serviceName: 'pg', template: {} } };

describe('recovered workloads', () => {
  it('groups the workloads of spec.bootOrder by name and selector, each once, and names the missing', () => {
    const groups = bootGroups([
      { name: 'db', delaySeconds: 0, workloads: [{ kind: 'StatefulSet', name: 'pg' }, { kind: 'Deployment', name: 'cache' }] },
      { name: 'web', delaySeconds: 30, workloads: [{ kind: 'Deployment', selector: { matchLabels: { tier: 'front' } } }, { kind: 'Deployment', name: 'gone' }] },
    ], {
      Deployment: [deployment('web-b', { tier: 'front' }), deployment('cache', { tier: 'front' }), deployment('web-a', { tier: 'front' })],
      StatefulSet: [sts],
    });
    assert.deepEqual(groups.map((g) => [g.name, g.delaySeconds, g.workloads.map((w) => `${w.kind}/${w.object.metadata?.name ?? ''}`), g.missing]), [
      ['db', 0, ['StatefulSet/pg', 'Deployment/cache'], []],
      ['web', 30, ['Deployment/web-a', 'Deployment/web-b'], ['Deployment gone']],
    ]);
    assert.deepEqual(bootGroups(undefined, { Deployment: [], StatefulSet: [] }), []);
  });

  it('copies a workload for the recovery site: same name and template, no tie to the protected site', () => {
    const source = deployment('web', { app: 'web' });
    const copy = recoveredWorkload({ vpg, namespace: 'acme-test', group: 'app', kind: 'Deployment', source, nodeSelector: { 'zcsp.io/site': 'dr' }, checkpointId: '17' });
    const { metadata, spec, status } = copy;
    assert.equal(status, undefined);
    assert.deepEqual(metadata, {
      name: 'web',
      namespace: 'acme-test',
      labels: { app: 'web', 'zcsp.io/vpg-uid': 'u-1', 'zcsp.io/recovery-role': 'workload', 'zcsp.io/boot-group': 'app' },
      annotations: { team: 'shop', 'zcsp.io/vpg': 'acme-prod/web', 'zcsp.io/recovered-from': 'acme-prod/web', 'zcsp.io/checkpoint': '17' },
    });
    const pod = spec?.template.spec ?? { containers: [] };
    assert.deepEqual({ nodeSelector: pod.nodeSelector, nodeName: pod.nodeName, affinity: pod.affinity, volumes: pod.volumes }, {
      nodeSelector: { 'zcsp.io/site': 'dr' }, nodeName: undefined, affinity: { podAntiAffinity: {} }, volumes: source.spec?.template.spec?.volumes,
    });
    assert.deepEqual(spec?.template.metadata?.labels, { app: 'web', 'zcsp.io/vpg-uid': 'u-1', 'zcsp.io/recovery-role': 'workload', 'zcsp.io/boot-group': 'app' });
    assert.deepEqual(spec.selector, { matchLabels: { app: 'web' } });
    // The original is untouched.
    assert.deepEqual(source.spec?.template.spec?.nodeSelector, { 'zcsp.io/site': 'prod' });
  });

  it('runs as many replicas as a stopped original ran, and carries none of its recovery marks', () => {
    const source = deployment('web');
    if (source.spec !== undefined) source.spec.replicas = 0;
    source.metadata = { name: 'web', namespace: 'acme-prod', annotations: { 'zcsp.io/replicas-before-failover': '3', 'zcsp.io/ready-at': 'x', 'zcsp.io/resumed-by': 'u', team: 'shop' } };
    const copy = recoveredWorkload({ vpg, namespace: 'acme-dr', group: 'app', kind: 'Deployment', source, nodeSelector: {}, checkpointId: '1' });
    assert.equal(copy.spec?.replicas, 3);
    assert.deepEqual(Object.keys(copy.metadata?.annotations ?? {}).sort(), ['team', 'zcsp.io/checkpoint', 'zcsp.io/recovered-from', 'zcsp.io/vpg']);
  });

  it('is ready when every replica is, in the generation asked for', () => {
    const d = deployment('web');
    assert.equal(isWorkloadReady(d), true);
    assert.equal(isWorkloadReady({ ...d, status: { readyReplicas: 1, observedGeneration: 3 } }), false);
    assert.equal(isWorkloadReady({ ...d, status: { readyReplicas: 2, observedGeneration: 2 } }), false);
    assert.equal(isWorkloadReady(undefined), false);
    const none: Deployment = { metadata: { generation: 1 }, spec: { replicas: 0, selector: {}, template: {} }, status: { observedGeneration: 1 } };
    assert.equal(isWorkloadReady(none), true);
  });
});
