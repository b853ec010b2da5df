import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, Service } from '../../kube/objects.ts';
import type { Condition } from '../../runtime/index.ts';
import { endpointOf, rolledOut, zccStatus } from './status.ts';

const now = new Date('2026-03-01T12:00:00Z');
const service = (type: 'ClusterIP' | 'NodePort' | 'LoadBalancer', extra: Partial<Service> = {}): Service =>
  ({ spec: { type, clusterIP: '10.0.0.7', ports: [{ port: 9443, ...(type !== 'ClusterIP' && { nodePort: 31443 }) }] }, ...extra });
const deployment = (o: { generation?: number; observed?: number; replicas?: number; ready?: number; updated?: number } = {}): Deployment => ({
  metadata: { generation: o.generation ?? 1 },
  status: { observedGeneration: o.observed ?? 1, replicas: o.replicas ?? 1, readyReplicas: o.ready ?? 1, updatedReplicas: o.updated ?? 1 },
});
const ready = (s: Record<string, unknown>): Condition | undefined => (s['conditions'] as Condition[]).find((c) => c.type === 'Ready');

describe('endpointOf', () => {
  it('is the cluster IP and tunnel port, or a LoadBalancer\'s address once it has one', () => {
    assert.equal(endpointOf(service('ClusterIP')), '10.0.0.7:9443');
    assert.equal(endpointOf(service('NodePort')), '10.0.0.7:9443');
    assert.equal(endpointOf(service('LoadBalancer')), '10.0.0.7:9443', 'until an address is assigned');
    assert.equal(endpointOf(service('LoadBalancer', { status: { loadBalancer: { ingress: [{ hostname: 'zcc.example.net' }] } } })), 'zcc.example.net:9443');
    assert.equal(endpointOf({ spec: { clusterIP: 'fd00::7' } }), '[fd00::7]:9443');
    assert.equal(endpointOf({ spec: { clusterIP: 'None' } }), undefined);
    assert.equal(endpointOf(undefined), undefined);
  });
});

describe('rolledOut', () => {
  it('needs every replica of the current template Ready', () => {
    assert.equal(rolledOut(deployment(), 1), true);
    assert.equal(rolledOut(deployment({ ready: 0 }), 1), false);
    assert.equal(rolledOut(deployment({ generation: 2, observed: 1 }), 1), false, 'the Deployment controller has not seen the new template');
    assert.equal(rolledOut(deployment({ replicas: 2, ready: 2, updated: 1 }), 1), false, 'an old pod still runs');
    assert.equal(rolledOut(undefined, 1), false);
  });
});

describe('zccStatus', () => {
  it('is Ready with the endpoint once the connector pods are', () => {
    const s = zccStatus({ previous: undefined, generation: 2, replicas: 1, deployment: deployment(), service: service('NodePort'), now });
    assert.equal(s['readyReplicas'], 1);
    assert.equal(s['endpoint'], '10.0.0.7:9443');
    assert.equal(s['observedGeneration'], 2);
    assert.deepEqual(ready(s), {
      type: 'Ready', status: 'True', reason: 'Available', message: '1/1 connector pods ready; endpoint 10.0.0.7:9443, node port 31443',
      observedGeneration: 2, lastTransitionTime: '2026-03-01T12:00:00Z',
    });
  });

  it('is not Ready while rolling out, or when the tenant cannot be served', () => {
    const rolling = zccStatus({ previous: undefined, generation: 1, replicas: 2, deployment: deployment({ replicas: 2, ready: 1, updated: 2 }), service: service('ClusterIP'), now });
    assert.equal(ready(rolling)?.reason, 'RollingOut');
    assert.equal(ready(rolling)?.message, '1/2 connector pods ready');
    const blocked = zccStatus({
      previous: undefined, generation: 1, replicas: 1, deployment: deployment(), service: service('ClusterIP'), now,
      blocker: { reason: 'ZorgNotFound', message: 'Zorg acme does not exist: the connector routes nothing' },
    });
    assert.equal(ready(blocked)?.status, 'False');
    assert.equal(ready(blocked)?.reason, 'ZorgNotFound');
  });

  it('is the same status for the same world', () => {
    const first = zccStatus({ previous: undefined, generation: 1, replicas: 1, deployment: deployment(), service: service('ClusterIP'), now });
    assert.deepEqual(zccStatus({ previous: first, generation: 1, replicas: 1, deployment: deployment(), service: service('ClusterIP'), now: new Date(now.getTime() + 5000) }), first);
  });
});
