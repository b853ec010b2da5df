// The Helm chart's values, as a zod schema: the source of values.schema.json (so helm rejects a
// typo or a wrong type before rendering anything) and of the types the chart tests use.
import { z } from 'zod';

const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number()]);
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() });
/** Passed through to the pod spec as they are: Kubernetes validates them. */
const freeForm = (what: string) => z.record(z.string(), z.unknown()).describe(what);

export const ChartValues = z.strictObject({
  image: z.strictObject({
    repository: z.string().min(1).describe('Image repository of zcsp (one image for every role).'),
    tag: z.string().describe('Image tag; empty means the chart\'s appVersion.'),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  }),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })).describe('Secrets for pulling the image.'),
  replicaCount: z.int().min(1).max(5).describe('Operator replicas; one leads (Lease), the others stand by.'),
  crds: z.strictObject({
    install: z.boolean().describe('Install and upgrade the zcsp.io CRDs with the chart (they are kept on uninstall).'),
  }),
  manager: z.strictObject({
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    workers: z.int().min(1).max(64).describe('Concurrent reconciles per controller.'),
    leaderElection: z.strictObject({
      leaseDurationSeconds: z.int().min(2).max(300),
      renewDeadlineSeconds: z.int().min(1).max(299),
      retryPeriodSeconds: z.int().min(1).max(60),
    }),
  }),
  serviceAccount: z.strictObject({
    create: z.boolean(),
    name: z.string().describe('Name of the ServiceAccount; empty means the release\'s full name.'),
    annotations: z.record(z.string(), z.string()),
  }),
  metrics: z.strictObject({
    port: z.int().min(1).max(65535).describe('Port of /metrics, /healthz and /readyz.'),
    service: z.strictObject({ enabled: z.boolean() }),
  }),
  resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }),
  podDisruptionBudget: z.strictObject({
    enabled: z.boolean(),
    minAvailable: z.int().min(0).describe('Operator pods kept through voluntary disruptions (applies when replicaCount > 1).'),
  }),
  console: z.strictObject({
    enabled: z.boolean().describe('Deploy the web console (zcsp console): tenants and the provider sign in with Kubernetes tokens.'),
    // Sessions and the RPO history are in the console's memory: one replica.
    replicas: z.literal(1).describe('Console replicas: 1 (sessions live in its memory).'),
    port: z.int().min(1).max(65535).describe('Port the console listens on (plain HTTP: put TLS on the ingress in front).'),
    service: z.strictObject({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']),
      port: z.int().min(1).max(65535),
    }),
    publicUrl: z.string().describe('The console\'s address as browsers reach it (https://…): the base of one-time sign-in links, and https makes the session cookie Secure. Empty: none.'),
    sessionTtl: z.string().regex(/^[0-9]+(s|m|h)$/).describe('Longest life of a session, e.g. 8h.'),
    sessionIdle: z.string().regex(/^[0-9]+(s|m|h)$/).describe('A session unused this long ends, e.g. 30m.'),
    resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }),
  }),
  priorityClassName: z.string(),
  podAnnotations: z.record(z.string(), z.string()),
  podLabels: z.record(z.string(), z.string()),
  nodeSelector: z.record(z.string(), z.string()),
  tolerations: z.array(freeForm('A toleration, as in a pod spec.')),
  affinity: freeForm('Affinity, as in a pod spec.'),
});

export type ChartValues = z.infer<typeof ChartValues>;

/** values.schema.json: draft-07, which helm 3 and 4 both read; unknown keys rejected at every level. */
export function valuesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ChartValues, { target: 'draft-7', io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  return { ...schema, title: 'Values of the zcsp Helm chart' };
}
