// The Helm chart's values, as a zod schema: the source of values.schema.json (so helm rejects a
// typo, a wrong type or an impossible value before rendering anything), of the defaults
// values.yaml must repeat, and of the types the chart tests use. What JSON schema cannot say (one
// value against another) templates/validate.yaml checks.
import { z } from 'zod';
import type { JSONSchema } from 'zod/v4/core';

// helm checks these patterns with Go's regexp (RE2): no lookaround, no backreferences.
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
/** What a Service name must be (DNS-1035): a DNS label that starts with a letter. */
const SERVICE_NAME = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = `${DNS_LABEL}(\\.${DNS_LABEL})*`;
/** Label and annotation keys: an optional DNS subdomain prefix, then a name of up to 63 characters. */
const QUALIFIED_NAME = `(${DNS_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
const LABEL_VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';

const whole = (pattern: string) => new RegExp(`^${pattern}$`);
const optional = (pattern: string) => new RegExp(`^(${pattern})?$`);

const subdomainOrEmpty = (what: string) => z.string().max(253).regex(optional(DNS_SUBDOMAIN)).describe(what);
const qualifiedName = z.string().max(317).regex(whole(QUALIFIED_NAME));
const labelValue = z.string().max(63).regex(whole(LABEL_VALUE));

/** A Kubernetes quantity (100m, 0.5, 128Mi, 1e3): never negative. */
const quantity = z.union([
  z.string().regex(/^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/),
  z.number().min(0),
]);
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() });
const resources = (requests: z.input<typeof resourceList>, limits: z.input<typeof resourceList>) =>
  z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }).default({ requests, limits });

/** As `zcsp console` parses it (Go style: 90s, 30m, 1h30m), and more than zero: some digit is not 0. */
const duration = (what: string, value: string) =>
  z.string().regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/).regex(/[1-9]/).default(value).describe(what);

/** Passed through to the pod spec as they are: Kubernetes validates them. */
const freeForm = (what: string) => z.record(z.string(), z.unknown()).describe(what);

const toleration = z.strictObject({
  key: z.string().max(317).regex(optional(QUALIFIED_NAME)).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: labelValue.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().optional(),
});

const port = z.int().min(1).max(65535);

export const ChartValues = z.strictObject({
  nameOverride: z.string().max(63).regex(optional(DNS_LABEL)).default('')
    .describe('Replaces the chart name in object names and the app.kubernetes.io/name label.'),
  // 55: the longest suffix the chart adds ("-manager", "-metrics", "-console") still leaves a
  // Service name within the 63 characters Kubernetes allows.
  fullnameOverride: z.string().max(55).regex(optional(SERVICE_NAME)).default('')
    .describe('Replaces <release>-<chart> as the prefix of every object name.'),
  image: z.strictObject({
    // The image name without tag (distribution's reference grammar): the tag goes in image.tag.
    repository: z.string().max(255)
      .regex(/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?\/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/)
      .default('ghcr.io/zcsp/zcsp')
      .describe('Image repository of zcsp (one image for every role), without the tag.'),
    tag: z.string().regex(/^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/).default('')
      .describe('Image tag; empty means the chart\'s appVersion.'),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent')
      .describe('How the operator, the console, and the VRA, ZCC and restore pods the operator makes pull the image.'),
  }).prefault({}),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().max(253).regex(whole(DNS_SUBDOMAIN)) })).default([])
    .describe('Secrets in the release namespace for pulling the image: the operator\'s and console\'s pods, and the VRA and ZCC pods the operator makes there.'),
  replicaCount: z.int().min(1).max(5).default(2).describe('Operator replicas; one leads (Lease), the others stand by.'),
  crds: z.strictObject({
    install: z.boolean().default(true).describe('Install and upgrade the zcsp.io CRDs with the chart (they are kept on uninstall).'),
  }).prefault({}),
  manager: z.strictObject({
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    workers: z.int().min(1).max(64).default(4).describe('Concurrent reconciles per controller.'),
    // The ranges of `zcsp manager`'s flags; their order (lease > renew deadline > retry period) is
    // checked by templates/validate.yaml.
    leaderElection: z.strictObject({
      leaseDurationSeconds: z.int().min(2).max(300).default(15),
      renewDeadlineSeconds: z.int().min(1).max(299).default(10),
      retryPeriodSeconds: z.int().min(1).max(60).default(2),
    }).prefault({}),
  }).prefault({}),
  serviceAccount: z.strictObject({
    create: z.boolean().default(true),
    name: subdomainOrEmpty('Name of the ServiceAccount; empty means the release\'s full name. Required when create is false.').default(''),
    annotations: z.record(qualifiedName, z.string()).default({}),
  }).prefault({}),
  metrics: z.strictObject({
    port: port.default(8080).describe('Port of /metrics, /healthz and /readyz.'),
    service: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  }).prefault({}),
  resources: resources({ cpu: '100m', memory: '128Mi' }, { memory: '512Mi' }),
  podDisruptionBudget: z.strictObject({
    enabled: z.boolean().default(true),
    minAvailable: z.int().min(1).default(1)
      .describe('Operator pods kept through voluntary disruptions; below replicaCount. No PDB with one replica (it would block every drain).'),
  }).prefault({}),
  console: z.strictObject({
    enabled: z.boolean().default(true).describe('Deploy the web console (zcsp console): tenants and the provider sign in with Kubernetes tokens.'),
    // Sessions and the RPO history are in the console's memory: one replica.
    replicas: z.literal(1).default(1).describe('Console replicas: 1 (sessions live in its memory).'),
    port: port.default(8080).describe('Port the console listens on (plain HTTP: put TLS on the ingress in front).'),
    service: z.strictObject({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
      port: port.default(80),
    }).prefault({}),
    // What `zcsp console --public-url` accepts.
    publicUrl: z.string().max(2048).regex(/^(https?:\/\/[^/\s]+(\/\S*)?)?$/).default('')
      .describe('The console\'s address as browsers reach it (https://…): the base of one-time sign-in links, and https makes the session cookie Secure. Empty: none.'),
    sessionTtl: duration('Longest life of a session, e.g. 8h.', '8h'),
    sessionIdle: duration('A session unused this long ends, e.g. 30m.', '30m'),
    resources: resources({ cpu: '50m', memory: '96Mi' }, { memory: '256Mi' }),
  }).prefault({}),
  priorityClassName: subdomainOrEmpty('PriorityClass of the manager and console pods; empty: none.').default(''),
  podAnnotations: z.record(qualifiedName, z.string()).default({}),
  // The chart's selector labels (app.kubernetes.io/name, instance, component) are refused by
  // templates/validate.yaml: RE2 cannot exclude them here.
  podLabels: z.record(qualifiedName, labelValue).default({}),
  nodeSelector: z.record(qualifiedName, labelValue).default({}),
  tolerations: z.array(toleration).default([]),
  affinity: z.strictObject({
    nodeAffinity: freeForm('Node affinity, as in a pod spec.').optional(),
    podAffinity: freeForm('Pod affinity, as in a pod spec.').optional(),
    podAntiAffinity: freeForm('Pod anti-affinity, as in a pod spec.').optional(),
  }).default({}),
});

export type ChartValues = z.infer<typeof ChartValues>;
/** Values as a user writes them: any subset of ChartValues. */
export type ChartValuesInput = z.input<typeof ChartValues>;

/** The chart's defaults, as the schema has them: values.yaml must say the same. */
export function chartDefaults(): ChartValues {
  return ChartValues.parse({});
}

/**
 * A map's key pattern as patternProperties rather than propertyNames: helm then names the map and
 * the key ("at '/podLabels': additional properties 'team name' not allowed"), where a
 * propertyNames failure is reported at some other, arbitrary field. The length limit of keys
 * stays with the zod schema.
 */
function keysAsPatternProperties({ jsonSchema: s }: { jsonSchema: JSONSchema.BaseSchema }): void {
  const names = s.propertyNames;
  if (typeof names !== 'object') return;
  if (typeof names.pattern === 'string') {
    if (typeof s.additionalProperties !== 'object') return;
    s.patternProperties = { [names.pattern]: s.additionalProperties };
    s.additionalProperties = false;
  }
  // Without a pattern it says only that keys are strings, which they always are.
  delete s.propertyNames;
}

/**
 * values.schema.json: draft-07, which helm 3 and 4 both read; unknown keys rejected at every level.
 * As the output of parsing: helm checks the values after merging values.yaml under the user's, so
 * every key is there unless a user removed it with null, which `required` then refuses.
 */
export function valuesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ChartValues, { target: 'draft-7', io: 'output', unrepresentable: 'throw', override: keysAsPatternProperties }) as Record<string, unknown>;
  return { ...schema, title: 'Values of the zcsp Helm chart' };
}
