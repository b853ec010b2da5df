// NetworkPolicies that keep a tenant's replication traffic on its own connector (ZCC).
//
// In each tenant namespace, zcsp-vra-egress: pods labelled zcsp.io/role=vra (the tenant's
// replication traffic) may connect only to the pods of the Zorg's ZCCs in the provider namespace,
// and to DNS in kube-system. No ZCC (not created yet, or a name conflict): DNS only.
//
// In the provider namespace, zcsp-zcc-<zorg>: the Zorg's ZCC pods accept connections only from
// the Zorg's namespaces and from the provider's own VRA pods (the source VRAs of this cluster,
// which dial the tenant's ZCC); a ZCC exposed outside the cluster (NodePort or LoadBalancer)
// accepts any source, since its tenant's sites are elsewhere, and authenticates them itself.
//
// Ports are left to the ZCC controller (which owns the connector's Service): the policies say who
// may talk to whom. They take effect on clusters whose network plugin enforces NetworkPolicy.
import { childName } from '../../runtime/index.ts';
import { labelValue, NAMESPACE_NAME_LABEL, ROLE_LABEL, VRA_EGRESS_POLICY_NAME, VRA_ROLE, ZCC_LABEL } from './labels.ts';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer } from './types.ts';

const DNS_NAMESPACE = 'kube-system';

/** The name of a Zorg's ingress policy in the provider namespace. */
export function zccPolicyName(zorg: string): string {
  return childName(['zcsp-zcc', zorg]);
}

/** The pods of these ZCCs (the label the ZCC controller puts on them). */
export function zccPodSelector(zccNames: readonly string[]): LabelSelector {
  return { matchExpressions: [{ key: ZCC_LABEL, operator: 'In', values: [...new Set(zccNames.map(labelValue))].sort() }] };
}

export function vraEgressPolicy(namespace: string, providerNamespace: string, zccNames: readonly string[], labels: Record<string, string>): NetworkPolicy {
  const egress: NonNullable<NetworkPolicy['spec']['egress']> = [];
  if (zccNames.length > 0) {
    egress.push({ to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: providerNamespace } }, podSelector: zccPodSelector(zccNames) }] });
  }
  egress.push({
    to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } } }],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  });
  return {
    metadata: { name: VRA_EGRESS_POLICY_NAME, namespace, labels },
    spec: { podSelector: { matchLabels: { [ROLE_LABEL]: VRA_ROLE } }, policyTypes: ['Egress'], egress },
  };
}

/**
 * The ingress policy of the Zorg's ZCC pods; undefined when the Zorg has no ZCC. `external`: a
 * ZCC is exposed outside the cluster.
 */
export function zccIngressPolicy(
  zorg: string, providerNamespace: string, zccNames: readonly string[], tenantNamespaces: readonly string[], external: boolean, labels: Record<string, string>,
): NetworkPolicy | undefined {
  if (zccNames.length === 0) return undefined;
  const from: NetworkPolicyPeer[] = [];
  if (tenantNamespaces.length > 0) {
    from.push({ namespaceSelector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...new Set(tenantNamespaces)].sort() }] } });
  }
  // A podSelector alone selects pods of the policy's own namespace: the provider's VRAs.
  from.push({ podSelector: { matchLabels: { [ROLE_LABEL]: VRA_ROLE } } });
  return {
    metadata: { name: zccPolicyName(zorg), namespace: providerNamespace, labels },
    // A rule without `from` admits every source: only ever on purpose, for an exposed ZCC.
    spec: { podSelector: zccPodSelector(zccNames), policyTypes: ['Ingress'], ingress: external ? [{}] : [{ from }] },
  };
}
