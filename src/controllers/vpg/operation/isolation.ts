// NetworkPolicies of a failover test: the recovered workloads run beside production with the same
// configuration (the same peers' addresses, the same credentials), so they must not reach
// production or be reached by it. Two policies in the test namespace, per VPG:
//
// - zcsp-test-<vpg>: the test's workload pods accept connections only from each other and may
//   connect only to each other and to DNS. Nothing else of the cluster (production included).
// - zcsp-restore-<vpg>: the restore pods accept nothing and may connect only to the VRAs of the
//   provider namespace, on the control port (the export), and to DNS.
//
// They take effect where the network plugin enforces NetworkPolicy (as the Zorg's policies do).
import { childName } from '../../../runtime/index.ts';
import { LABEL_ROLE, ROLE_VRA, VRA_CONTROL_PORT } from '../../labels.ts';
import type { NetworkPolicy } from '../../zorg/types.ts';
import { LABEL_RECOVERY_ROLE, LABEL_VPG_UID, recoveryAnnotations, recoveryLabels, ROLE_RESTORE, ROLE_WORKLOAD, type VpgRef } from './labels.ts';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const DNS = { to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } } }], ports: [{ protocol: 'UDP' as const, port: 53 }, { protocol: 'TCP' as const, port: 53 }] };

export function testIsolationPolicy(vpg: VpgRef, namespace: string): NetworkPolicy {
  const own = { podSelector: { matchLabels: { [LABEL_VPG_UID]: vpg.uid, [LABEL_RECOVERY_ROLE]: ROLE_WORKLOAD } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: childName(['zcsp-test', vpg.name]), namespace, labels: recoveryLabels(vpg, ROLE_WORKLOAD), annotations: recoveryAnnotations(vpg) },
    spec: { podSelector: own.podSelector, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [own] }], egress: [{ to: [own] }, DNS] },
  };
}

export function restoreIsolationPolicy(vpg: VpgRef, namespace: string, providerNamespace: string): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: childName(['zcsp-restore', vpg.name]), namespace, labels: recoveryLabels(vpg, ROLE_RESTORE), annotations: recoveryAnnotations(vpg) },
    spec: {
      podSelector: { matchLabels: { [LABEL_VPG_UID]: vpg.uid, [LABEL_RECOVERY_ROLE]: ROLE_RESTORE } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: providerNamespace } }, podSelector: { matchLabels: { [LABEL_ROLE]: ROLE_VRA } } }],
          ports: [{ protocol: 'TCP', port: VRA_CONTROL_PORT }],
        },
        DNS,
      ],
    },
  };
}
