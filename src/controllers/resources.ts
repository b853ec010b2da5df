// Every kind the controllers read or write, in one place (the chart's RBAC must match this list).
import type { Job, PersistentVolume, StatefulSet } from '../kube/objects.ts';
import { defineResource, resourceForKind } from '../runtime/index.ts';
import { serviceProfileKind } from '../crds/service-profile.ts';
import { siteKind } from '../crds/site.ts';
import { vpgKind } from '../crds/vpg.ts';
import { zccKind } from '../crds/zcc.ts';
import { zorgKind } from '../crds/zorg.ts';

export const ZORGS = resourceForKind(zorgKind);
export const SERVICE_PROFILES = resourceForKind(serviceProfileKind);
export const SITES = resourceForKind(siteKind);
export const VPGS = resourceForKind(vpgKind);
export const ZCCS = resourceForKind(zccKind);

export const ROLES = defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true });
export const ROLE_BINDINGS = defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true });
export const RESOURCE_QUOTAS = defineResource({ group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, statusSubresource: true });
export const NETWORK_POLICIES = defineResource({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true });
export const POD_DISRUPTION_BUDGETS = defineResource({ group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, statusSubresource: true });
export const PERSISTENT_VOLUMES = defineResource<PersistentVolume>({ group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, statusSubresource: true });
export const STATEFUL_SETS = defineResource<StatefulSet>({ group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, statusSubresource: true });
export const JOBS = defineResource<Job>({ group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, statusSubresource: true });
