// The shapes of the built-in kinds the Zorg controller writes, as JSON on the wire (only the
// fields it sets or reads).
import type { KubeObject } from '../../runtime/index.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface Role extends KubeObject {
  rules: PolicyRule[];
}

export interface Subject {
  kind: 'User' | 'Group';
  apiGroup: string;
  name: string;
}

export interface RoleBinding extends KubeObject {
  roleRef: { apiGroup: string; kind: 'Role'; name: string };
  subjects: Subject[];
}

export interface ResourceQuota extends KubeObject {
  spec: { hard: Record<string, string> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface NetworkPolicyPeer {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

export interface NetworkPolicyPort {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port?: number;
}

export interface NetworkPolicy extends KubeObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

export interface Namespace extends KubeObject {
  status?: { phase?: string };
}
