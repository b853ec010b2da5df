// The desired children of a ZCC, as pure functions: the connector's Deployment and Service, its
// ServiceAccount with a Role that can read exactly what the connector reads (VRA pods and its
// routes ConfigMap, in the provider namespace), the routes ConfigMap, and the credentials Secret
// generated once.
import { createHash, randomBytes } from 'node:crypto';
import type { Deployment, Role, RoleBinding, Service, ServiceAccount } from '../../kube/objects.ts';
import { canonicalJson, childName, type ConfigMap, type Secret } from '../../runtime/index.ts';
import { selfSignedCertificate } from '../../tls/self-signed.ts';
import { ROUTES_KEY, encodeRoutes, routesConfigMapName } from '../../zcc/routes.ts';
import { MANAGED_BY, pullPolicy, pullSecrets, type OperatorConfig } from '../config.ts';
import { ANNOTATION_CREDENTIALS_HASH, LABEL_ROLE, LABEL_ZCC, LABEL_ZORG, ROLE_ZCC, labelValue } from '../labels.ts';

export { routesConfigMapName };

/** The tunnel port of the connector (pods and Service). */
export const ZCC_PORT = 9443;
/** Plain HTTP /healthz, /readyz, /metrics of a connector pod. */
export const ZCC_HEALTH_PORT = 9441;
export const CREDENTIALS_DIR = '/etc/zcsp/zcc';
/** The files a credentials Secret must hold. */
export const CREDENTIAL_KEYS = ['tls.crt', 'tls.key', 'token'] as const;
/** The uid and gid the connector runs as (the image's nonroot user, as the manager's). */
const NONROOT = 65532;

export interface ZccRef {
  /** The ZCC's name. */
  name: string;
  zorg: string;
}

/** The name of the Deployment, Service, ServiceAccount, Role and RoleBinding of a ZCC. */
export function zccChildName(zcc: string): string {
  return childName(['zcc', zcc]);
}

/** The Secret a ZCC uses: the one its spec names, or <name>-credentials, which the operator creates. */
export function credentialsSecretName(zcc: string, specName: string | undefined): string {
  return specName ?? childName([zcc, 'credentials'], 253);
}

/** The labels that pick a ZCC's pods: never change them (a Deployment's selector is immutable). */
export function zccSelector(zcc: string): Record<string, string> {
  return { [LABEL_ROLE]: ROLE_ZCC, [LABEL_ZCC]: labelValue(zcc) };
}

export function zccLabels(config: OperatorConfig, ref: ZccRef): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'zcsp',
    'app.kubernetes.io/component': 'zcc',
    [config.managedByLabel]: MANAGED_BY,
    ...zccSelector(ref.name),
    [LABEL_ZORG]: labelValue(ref.zorg),
  };
}

/** The DNS names of the connector's Service: what its certificate is valid for. */
export function serviceDnsNames(config: OperatorConfig, zcc: string): string[] {
  const svc = zccChildName(zcc);
  const ns = config.namespace;
  return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
}

/**
 * New credentials: a random token (256 bits) the tenant's VRAs present, and a self-signed TLS
 * identity for the connector, also given as ca.crt (clients pin it). Created once: the
 * controller never regenerates a Secret that exists.
 */
export function generateCredentials(config: OperatorConfig, ref: ZccRef, secretName: string): Secret {
  const names = serviceDnsNames(config, ref.name);
  const { cert, key } = selfSignedCertificate({ commonName: names[2] ?? ref.name, dnsNames: names });
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: config.namespace, labels: zccLabels(config, ref) },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(cert), 'tls.key': b64(key), 'ca.crt': b64(cert), token: b64(randomBytes(32).toString('base64url')) },
  };
}

/** Why a credentials Secret cannot be used, or undefined. */
export function credentialsProblem(secret: Secret | undefined, name: string): string | undefined {
  if (secret === undefined) return `Secret ${name} does not exist`;
  const missing = CREDENTIAL_KEYS.filter((k) => (secret.data?.[k] ?? '') === '');
  return missing.length === 0 ? undefined : `Secret ${name} lacks ${missing.join(', ')}`;
}

/** A hash of the Secret's content: in the pod template, so new credentials roll the pods. */
export function credentialsHash(secret: Secret | undefined): string {
  return createHash('sha256').update(canonicalJson(secret?.data ?? {})).digest('hex').slice(0, 16);
}

export function desiredServiceAccount(config: OperatorConfig, ref: ZccRef): ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: zccChildName(ref.name), namespace: config.namespace, labels: zccLabels(config, ref) } };
}

/** What the connector reads: VRA pods (to find a target) and its own routes, nothing else. */
export function desiredRole(config: OperatorConfig, ref: ZccRef): Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: zccChildName(ref.name), namespace: config.namespace, labels: zccLabels(config, ref) },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [routesConfigMapName(ref.name)], verbs: ['get', 'list', 'watch'] },
    ],
  };
}

export function desiredRoleBinding(config: OperatorConfig, ref: ZccRef): RoleBinding {
  const name = zccChildName(ref.name);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: config.namespace, labels: zccLabels(config, ref) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: config.namespace }],
  };
}

/** The sites the tenant's traffic may reach, as the connector reads them. */
export function desiredRoutes(config: OperatorConfig, ref: ZccRef, recoverySites: Iterable<string>): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: routesConfigMapName(ref.name), namespace: config.namespace, labels: zccLabels(config, ref) },
    data: { [ROUTES_KEY]: encodeRoutes(ref.zorg, recoverySites) },
  };
}

export function desiredDeployment(config: OperatorConfig, ref: ZccRef, options: { replicas: number; secretName: string; credentialsHash: string }): Deployment {
  const labels = zccLabels(config, ref);
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: zccChildName(ref.name), namespace: config.namespace, labels },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: zccSelector(ref.name) },
      // A new pod is Ready before an old one goes: tunnels reconnect to a connector that is up.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { [ANNOTATION_CREDENTIALS_HASH]: options.credentialsHash } },
        spec: {
          serviceAccountName: zccChildName(ref.name),
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: NONROOT, runAsGroup: NONROOT, fsGroup: NONROOT, seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 30,
          ...pullSecrets(config),
          // Replicas on different nodes when there are enough.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: zccSelector(ref.name) } },
              }],
            },
          },
          containers: [{
            name: 'zcc',
            image: config.image,
            ...pullPolicy(config),
            args: [
              'zcc', '--listen', `0.0.0.0:${ZCC_PORT}`, '--health-port', String(ZCC_HEALTH_PORT),
              '--zorg', ref.zorg, '--routes', routesConfigMapName(ref.name), '--credentials-dir', CREDENTIALS_DIR,
            ],
            env: [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_IP', 'status.podIP')],
            ports: [
              { name: 'tls', containerPort: ZCC_PORT, protocol: 'TCP' },
              { name: 'health', containerPort: ZCC_HEALTH_PORT, protocol: 'TCP' },
            ],
            readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 2, failureThreshold: 3 },
            livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true }],
          }],
          volumes: [{ name: 'credentials', secret: { secretName: options.secretName, defaultMode: 0o440 } }],
        },
      },
    },
  };
}

export function desiredService(config: OperatorConfig, ref: ZccRef, type: 'ClusterIP' | 'NodePort' | 'LoadBalancer'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: zccChildName(ref.name), namespace: config.namespace, labels: zccLabels(config, ref) },
    spec: {
      type,
      selector: zccSelector(ref.name),
      ports: [{ name: 'tls', port: ZCC_PORT, targetPort: 'tls', protocol: 'TCP' }],
    },
  };
}
