// Zorg (cluster-scoped): a tenant, as Zerto's ZORG: its namespaces, its members and their roles,
// the service profiles its VPGs may use, and its quotas. Its ZCC is a separate object.
import { z } from 'zod';
import { listMap, namespaceName, objectName, quantity, setOf, statusBase } from './common.ts';
import { defineKind } from './crd.ts';
import { SizingTotals } from './sizing.ts';
import { withRules } from './rules.ts';

const contact = withRules(z.strictObject({
  name: z.string().min(1).max(128).describe('The person or team to contact.'),
  email: z.string().max(254).regex(/^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$/).optional().describe('Email address.'),
  phone: z.string().max(32).regex(/^\+?[0-9][0-9 ()-]{3,31}$/).optional().describe('Phone number, digits with optional +, spaces, dashes and parentheses.'),
}), [{
  cel: 'has(self.email) || has(self.phone)', message: 'a contact needs an email or a phone number', reason: 'FieldValueRequired', field: ['email'],
  check: (c) => c.email !== undefined || c.phone !== undefined,
}]);

/**
 * Zerto's tenant privileges Manage VPG, Failover Test, Live Failover, Move and View, grouped into
 * three roles, each a Kubernetes Role with RoleBindings in every namespace of the Zorg.
 */
const member = z.strictObject({
  kind: z.enum(['User', 'Group']).describe('User or Group, as in an RBAC subject: who the API server authenticates the member as.'),
  name: z.string().min(1).max(253).describe('The user or group name the API server authenticates (a certificate\'s CN or O, an OIDC claim).'),
  role: z.enum(['Admin', 'Operator', 'Viewer'])
    .describe('Admin: Manage VPG, Failover Test, Live Failover, Move and View (create, edit and delete VPGs, run every operation). Operator: Failover Test and View (test existing VPGs, never touch production). Viewer: View (read VPGs and their status).'),
});

const systemNamespace = (ns: string): boolean => ns === 'default' || ns.startsWith('kube-');

const tenantNamespace = withRules(namespaceName('A namespace of the tenant.'), [{
  cel: "self != 'default' && !self.startsWith('kube-')", message: 'default and kube-* namespaces belong to the cluster, not to a tenant',
  check: (ns) => !systemNamespace(ns),
}]);

export const ZorgSpec = withRules(z.strictObject({
  displayName: z.string().min(1).max(128).describe('The tenant\'s name as people see it, e.g. in the console.'),
  crmId: z.string().min(1).max(64).regex(/^[A-Za-z0-9][-A-Za-z0-9_.:]*$/).optional()
    .describe('The provider\'s identifier of the tenant in its CRM or billing system. Once set it cannot be changed or removed: usage reports are keyed by it.'),
  contacts: z.array(contact).max(8).optional().describe('Whom the provider contacts about this tenant (alerts, failed tests).'),
  members: listMap(member, ['kind', 'name'], { max: 64 },
    'Who may use the tenant\'s VPGs, and in which role. The operator keeps RoleBindings in every namespace of the Zorg in step with this list.').default([]),
  namespaces: setOf(tenantNamespace, { min: 1, max: 32 },
    'The tenant\'s namespaces: where its workloads, PVCs and VPGs live, and where it recovers them (recovery and test namespaces of its VPGs must be among them).'),
  allowedServiceProfiles: setOf(objectName('The name of a ServiceProfile.'), { max: 32 },
    'The ServiceProfiles the tenant\'s VPGs may use.').default([]),
  defaultServiceProfile: objectName('The ServiceProfile a VPG gets when it names none and has no SLA of its own. Must be one of allowedServiceProfiles.').optional(),
  allowCustomSla: z.boolean().default(false)
    .describe('Whether the tenant\'s VPGs may set their own SLA (spec.sla) instead of using a ServiceProfile.'),
  quotas: z.strictObject({
    maxVPGs: z.int().min(0).max(10000).optional().describe('The most VPGs the tenant may have. Unset: no limit.'),
    maxProtectedSize: quantity('The most storage, summed over all protected volumes of all the tenant\'s VPGs, e.g. 10Ti. Unset: no limit.').optional(),
  }).optional().describe('Limits on what the tenant may protect. A VPG that would exceed them is not protected and says why in its conditions.'),
}), [
  {
    cel: 'self.allowCustomSla || size(self.allowedServiceProfiles) > 0',
    message: 'a Zorg needs at least one allowed service profile, or allowCustomSla',
    reason: 'FieldValueRequired',
    field: ['allowedServiceProfiles'],
    check: (s) => s.allowCustomSla || s.allowedServiceProfiles.length > 0,
  },
  {
    cel: '!has(self.defaultServiceProfile) || self.defaultServiceProfile in self.allowedServiceProfiles',
    message: 'defaultServiceProfile must be one of allowedServiceProfiles',
    field: ['defaultServiceProfile'],
    check: (s) => s.defaultServiceProfile === undefined || s.allowedServiceProfiles.includes(s.defaultServiceProfile),
  },
  {
    cel: '!has(oldSelf.crmId) || (has(self.crmId) && self.crmId == oldSelf.crmId)',
    message: 'crmId cannot be changed or removed once set',
    field: ['crmId'],
    transition: true,
  },
]).describe('The tenant: who its members are, what it may protect, and where.');
export type ZorgSpec = z.output<typeof ZorgSpec>;

const namespaceState = z.strictObject({
  name: namespaceName('A namespace of the spec.'),
  state: z.enum(['Ready', 'Conflict', 'Terminating'])
    .describe('Ready: the Zorg\'s, with its roles, quota and policies. Conflict: exists and is not the Zorg\'s (not adopted). Terminating: being deleted.'),
  message: z.string().max(1024).optional().describe('Why, when not Ready.'),
});

export const ZorgStatus = z.strictObject({
  ...statusBase,
  namespaces: listMap(namespaceState, ['name'], { max: 32 }, 'Each namespace of spec.namespaces and its state.').optional(),
  vpgCount: z.int().min(0).optional().describe('How many VPGs the tenant has, in all its namespaces.'),
  protectedSize: quantity('Total size of the volumes the tenant\'s VPGs protect.').optional(),
  sizing: SizingTotals.optional().describe('Capacity the tenant\'s VPGs need, summed from their status.sizing: `kubectl zcsp sizing --zorg` prints it.'),
}).describe('What the controller observed of the tenant: usage against quotas, and conditions.');
export type ZorgStatus = z.output<typeof ZorgStatus>;

export const zorgKind = defineKind({
  kind: 'Zorg',
  plural: 'zorgs',
  singular: 'zorg',
  shortNames: ['zorg'],
  scope: 'Cluster',
  description: 'Zorg is a tenant of the DR service (a Zerto ZORG): its namespaces, members and roles, the service profiles its VPGs may use, and its quotas.',
  spec: ZorgSpec,
  status: ZorgStatus,
  printerColumns: [
    { name: 'Display-Name', type: 'string', jsonPath: '.spec.displayName', description: 'The tenant\'s name.' },
    { name: 'VPGs', type: 'integer', jsonPath: '.status.vpgCount', description: 'VPGs of the tenant.' },
    { name: 'Protected', type: 'string', jsonPath: '.status.protectedSize', description: 'Total protected size.' },
    { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces', description: 'The tenant\'s namespaces.', priority: 1 },
  ],
});

export const Zorg = zorgKind.schema;
export type Zorg = z.output<typeof Zorg>;
