// The value sets the chart is rendered with: each option on its own, release names long and short,
// another namespace, every option at once and everything off. test/chart/templates.test.ts checks
// what each renders; test/integration/chart.test.ts has the API server accept it.
import type { ChartValuesInput } from '../../src/chart/values.ts';

export interface ValueSet {
  name: string;
  release: string;
  namespace: string;
  values: ChartValuesInput;
  /** The prefix of the object names this set must give (the oracle, written out, not computed). */
  fullname: string;
}

/** 53 characters, the longest release name helm allows; without "zcsp", so the chart name is appended. */
export const LONG_RELEASE = 'provider-disaster-recovery-for-the-acme-cloud-region1';

const scheduling = {
  priorityClassName: 'system-cluster-critical',
  podAnnotations: { 'example.com/owner': 'dr-team', 'backup.example.com/exclude': 'true' },
  podLabels: { team: 'dr', 'example.com/tier': 'control-plane' },
  nodeSelector: { 'kubernetes.io/os': 'linux', 'node-role.example.com/infra': '' },
  tolerations: [
    { key: 'node-role.example.com/infra', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'dedicated', operator: 'Equal', value: 'dr', effect: 'NoExecute', tolerationSeconds: 300 },
  ],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }] }],
      },
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'manager' } } },
      }],
    },
  },
} satisfies ChartValuesInput;

const defaults = { release: 'zcsp', namespace: 'zcsp-system', fullname: 'zcsp' };

export const VALUE_SETS: readonly ValueSet[] = [
  { name: 'defaults', ...defaults, values: {} },
  { name: 'one replica: no PDB (one of one would block every drain)', ...defaults, values: { replicaCount: 1 } },
  { name: 'three replicas, two kept available', ...defaults, values: { replicaCount: 3, podDisruptionBudget: { minAvailable: 2 } } },
  { name: 'PDB off with three replicas', ...defaults, values: { replicaCount: 3, podDisruptionBudget: { enabled: false } } },
  { name: 'PDB on, one replica, minAvailable 1', ...defaults, values: { replicaCount: 1, podDisruptionBudget: { enabled: true, minAvailable: 1 } } },
  { name: 'CRDs not installed', ...defaults, values: { crds: { install: false } } },
  { name: 'console off', ...defaults, values: { console: { enabled: false } } },
  {
    name: 'console with a public URL, its own port, a NodePort Service and other session limits', ...defaults,
    values: { console: { publicUrl: 'https://dr.example.com/console', port: 9000, service: { type: 'NodePort', port: 8443 }, sessionTtl: '12h', sessionIdle: '1h30m' } },
  },
  { name: 'console without a public URL behind a LoadBalancer', ...defaults, values: { console: { publicUrl: '', service: { type: 'LoadBalancer', port: 443 } } } },
  { name: 'an existing ServiceAccount', ...defaults, values: { serviceAccount: { create: false, name: 'dr-operator' } } },
  {
    name: 'a created ServiceAccount with its own name and annotations', ...defaults,
    values: { serviceAccount: { create: true, name: 'zcsp-operator', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/zcsp' } } },
  },
  { name: 'no metrics Service', ...defaults, values: { metrics: { service: { enabled: false } } } },
  { name: 'metrics on another port', ...defaults, values: { metrics: { port: 9090 } } },
  {
    name: 'image from a mirror, pinned, always pulled, with pull secrets', ...defaults,
    values: {
      image: { repository: 'registry.example.com:5000/mirror/zcsp', tag: 'v0.2.0-rc.1', pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'regcred' }, { name: 'mirror.example.com' }],
    },
  },
  { name: 'pods placed: node selector, tolerations, affinity, priority, annotations, labels', ...defaults, values: scheduling },
  {
    name: 'resources of both pods', ...defaults,
    values: {
      resources: { requests: { cpu: 0.5, memory: '256Mi', 'ephemeral-storage': '1Gi' }, limits: { cpu: '2', memory: '1Gi' } },
      console: { resources: { requests: { cpu: '25m' }, limits: { memory: '128M' } } },
    },
  },
  {
    name: 'manager tuning: workers, log level, lease timings', ...defaults,
    values: { manager: { workers: 16, logLevel: 'debug', leaderElection: { leaseDurationSeconds: 60, renewDeadlineSeconds: 40, retryPeriodSeconds: 5 } } },
  },
  { name: 'nameOverride', ...defaults, values: { nameOverride: 'dr-operator' }, fullname: 'zcsp-dr-operator' },
  { name: 'fullnameOverride', ...defaults, values: { fullnameOverride: 'acme-dr' }, fullname: 'acme-dr' },
  { name: 'a one-letter release', release: 'z', namespace: 'zcsp-system', values: {}, fullname: 'z-zcsp' },
  { name: 'a release named with the chart\'s name', release: 'zcsp-eu', namespace: 'zcsp-system', values: {}, fullname: 'zcsp-eu' },
  {
    name: 'the longest release name helm allows', release: LONG_RELEASE, namespace: 'zcsp-system', values: {},
    fullname: 'provider-disaster-recovery-for-the-acme-cloud-region1-z',
  },
  { name: 'another namespace', release: 'dr', namespace: 'dr-provider', values: {}, fullname: 'dr-zcsp' },
  {
    name: 'every option on', release: 'dr', namespace: 'dr-provider', fullname: 'dr-zcsp',
    values: {
      ...scheduling,
      image: { repository: 'registry.example.com/zcsp', tag: '0.2.0', pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'regcred' }],
      replicaCount: 3,
      crds: { install: true },
      manager: { logLevel: 'trace', workers: 8, leaderElection: { leaseDurationSeconds: 30, renewDeadlineSeconds: 20, retryPeriodSeconds: 4 } },
      serviceAccount: { create: true, name: 'dr-operator', annotations: { 'example.com/audit': 'on' } },
      metrics: { port: 9090, service: { enabled: true } },
      resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      podDisruptionBudget: { enabled: true, minAvailable: 2 },
      console: {
        enabled: true, port: 9000, service: { type: 'LoadBalancer', port: 443 }, publicUrl: 'https://dr.example.com',
        sessionTtl: '4h', sessionIdle: '15m', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      },
    },
  },
  {
    name: 'everything off', release: 'zcsp', namespace: 'zcsp-system', fullname: 'zcsp',
    values: {
      replicaCount: 1, crds: { install: false }, serviceAccount: { create: false, name: 'existing-operator' },
      metrics: { service: { enabled: false } }, podDisruptionBudget: { enabled: false }, console: { enabled: false },
    },
  },
];
