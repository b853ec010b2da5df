// The console's identity exactly as the chart makes it (its ServiceAccount, ClusterRole and
// binding, rendered by helm from deploy/helm/zcsp), and a provider user who may read the zcsp
// resources cluster-wide: what the console tests sign in with.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, type LocalCluster } from '../../cluster/cluster.ts';

/** Where the tests' users (ServiceAccounts: their tokens pass a TokenReview) live. */
export const USERS_NS = 'console-users';
export const sa = (name: string): string => `system:serviceaccount:${USERS_NS}:${name}`;

const PROVIDER_VIEWER = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: dr-provider-viewer }
rules: [{ apiGroups: [zcsp.io], resources: [zorgs, sites, serviceprofiles, vpgs], verbs: [get, list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: dr-provider-viewer }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: dr-provider-viewer }
subjects: [{ kind: ServiceAccount, name: paula, namespace: ${USERS_NS} }]
`;

/** Applies the chart's console identity (release zcsp: ServiceAccount zcsp-console in `namespace`) and the provider viewer. */
export async function applyConsoleRbac(cluster: LocalCluster, namespace: string): Promise<void> {
  const rendered = await cluster.helm(['template', 'zcsp', join(REPO_ROOT, 'deploy/helm/zcsp'), '--namespace', namespace, '--show-only', 'templates/console.yaml']);
  const identity = parseAllDocuments(rendered)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((o) => o !== null && ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind ?? ''));
  if (identity.length !== 3) throw new Error(`the chart's console template gave ${identity.length} of its 3 identity objects`);
  await cluster.kubectl(['apply', '-f', '-'], { input: `${identity.map((o) => JSON.stringify(o)).join('\n---\n')}\n---\n${PROVIDER_VIEWER}` });
}
