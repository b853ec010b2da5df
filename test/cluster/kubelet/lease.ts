// The node's heartbeat Lease in kube-node-lease: kube-controller-manager's node lifecycle
// controller marks a node NotReady (and taints it) when the lease is not renewed within its
// grace period, so it is renewed every 10 s like the kubelet does.
import { V1MicroTime, type CoordinationV1Api } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound, mergePatch } from './api.ts';

export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_MS = 10_000;

export async function renewLease(coordination: CoordinationV1Api, nodeName: string, nodeUid: string): Promise<void> {
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: new V1MicroTime() };
  try {
    await coordination.patchNamespacedLease({ name: nodeName, namespace: LEASE_NAMESPACE, body: { spec } }, mergePatch);
    return;
  } catch (err: unknown) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await coordination.createNamespacedLease({
      namespace: LEASE_NAMESPACE,
      body: {
        metadata: {
          name: nodeName,
          namespace: LEASE_NAMESPACE,
          // Owned by the Node, so the lease goes when the node is deleted.
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }],
        },
        spec,
      },
    });
  } catch (err: unknown) {
    if (!isAlreadyExists(err)) throw err;
  }
}
