// ZCC (namespaced, in the provider's namespace): a tenant's connector, as Zerto's ZCC: the only
// door from a tenant's network into the provider's replication network. It authenticates the
// tenant's VRA traffic and proxies it.
import { z } from 'zod';
import { objectName, statusBase } from './common.ts';
import { defineKind } from './crd.ts';
import { immutable } from './rules.ts';

export const ZCCSpec = z.strictObject({
  zorg: immutable(objectName('The Zorg this connector serves. Cannot change: its credentials are the tenant\'s.'),
    'zorg cannot change: create a new ZCC'),
  replicas: z.int().min(1).max(5).default(1).describe('Connector pods (1-5); more than one for availability.'),
  serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP')
    .describe('Type of the Service in front of the connector: ClusterIP when the tenant\'s VRAs run in this cluster, NodePort or LoadBalancer to reach it from outside.'),
  credentialsSecretName: objectName('Secret in this namespace with the connector\'s TLS identity and the tenant\'s credentials. Unset: the operator creates <name>-credentials.').optional(),
}).describe('Which tenant the connector serves and how it is exposed.');
export type ZCCSpec = z.output<typeof ZCCSpec>;

export const ZCCStatus = z.strictObject({
  ...statusBase,
  readyReplicas: z.int().min(0).optional().describe('Connector pods that are Ready.'),
  endpoint: z.string().max(512).optional().describe('Where the tenant\'s VRAs reach the connector, host:port.'),
}).describe('What the controller observed of the connector.');
export type ZCCStatus = z.output<typeof ZCCStatus>;

export const zccKind = defineKind({
  kind: 'ZCC',
  plural: 'zccs',
  singular: 'zcc',
  shortNames: ['zcc'],
  scope: 'Namespaced',
  description: 'ZCC (Zerto Cloud Connector) is a tenant\'s connector in the provider\'s namespace: the only path from the tenant\'s network into the provider\'s replication network, authenticating and proxying replication traffic.',
  spec: ZCCSpec,
  status: ZCCStatus,
  printerColumns: [
    { name: 'Zorg', type: 'string', jsonPath: '.spec.zorg', description: 'The tenant served.' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready connector pods.' },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', description: 'Where VRAs reach the connector.' },
    { name: 'Service', type: 'string', jsonPath: '.spec.serviceType', description: 'Service type.', priority: 1 },
  ],
  selectableFields: ['.spec.zorg'],
});

export const ZCC = zccKind.schema;
export type ZCC = z.output<typeof ZCC>;
