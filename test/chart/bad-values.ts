// Values the chart must refuse, each on its own over the defaults, with what helm must say: the
// field, always. `schema`: values.schema.json refuses it (so does the zod schema it comes from);
// `required`: the schema requires a key a user removed with null (zod would fill in its default);
// `template`: one value against another, which templates/validate.yaml (or a `required`) checks.

export interface BadValue {
  name: string;
  values: Record<string, unknown>;
  by: 'schema' | 'required' | 'template';
  error: RegExp;
  /** The release name when it is what is wrong. */
  release?: string;
}

const long = (n: number) => 'a'.repeat(n);

export const BAD_VALUES: readonly BadValue[] = [
  // wrong types
  { name: 'replicaCount as a word', values: { replicaCount: 'lots' }, by: 'schema', error: /at '\/replicaCount': got string, want integer/ },
  { name: 'replicaCount as a fraction', values: { replicaCount: 1.5 }, by: 'schema', error: /at '\/replicaCount': got number, want integer/ },
  { name: 'crds.install as a word', values: { crds: { install: 'yes' } }, by: 'schema', error: /at '\/crds\/install': got string, want boolean/ },
  { name: 'console.enabled as a word', values: { console: { enabled: 'no' } }, by: 'schema', error: /at '\/console\/enabled': got string, want boolean/ },
  { name: 'image.tag as a number', values: { image: { tag: 2 } }, by: 'schema', error: /at '\/image\/tag': got number, want string/ },
  { name: 'console.port as a name', values: { console: { port: 'http' } }, by: 'schema', error: /at '\/console\/port': got string, want integer/ },
  { name: 'resources as a word', values: { resources: 'small' }, by: 'schema', error: /at '\/resources': got string, want object/ },
  { name: 'an image pull secret as a bare name', values: { imagePullSecrets: ['regcred'] }, by: 'schema', error: /at '\/imagePullSecrets\/0': got string, want object/ },
  { name: 'a pod annotation as a number', values: { podAnnotations: { 'example.com/n': 1 } }, by: 'schema', error: /at '\/podAnnotations\/example.com~1n': got number, want string/ },
  { name: 'the image removed', values: { image: null }, by: 'required', error: /missing property 'image'/ },
  // unknown keys, at every level
  { name: 'an unknown top-level key', values: { replicas: 3 }, by: 'schema', error: /at '': additional properties 'replicas' not allowed/ },
  { name: 'an unknown key in image', values: { image: { digest: 'sha256:0' } }, by: 'schema', error: /at '\/image': additional properties 'digest' not allowed/ },
  { name: 'an unknown key in manager', values: { manager: { wrokers: 2 } }, by: 'schema', error: /at '\/manager': additional properties 'wrokers' not allowed/ },
  { name: 'an unknown key in manager.leaderElection', values: { manager: { leaderElection: { leaseDuration: 15 } } }, by: 'schema', error: /at '\/manager\/leaderElection': additional properties 'leaseDuration' not allowed/ },
  { name: 'an unknown key in console.service', values: { console: { service: { nodePort: 30080 } } }, by: 'schema', error: /at '\/console\/service': additional properties 'nodePort' not allowed/ },
  { name: 'an unknown resource', values: { resources: { limits: { 'nvidia.com/gpu': 1 } } }, by: 'schema', error: /at '\/resources\/limits': additional properties 'nvidia.com\/gpu' not allowed/ },
  { name: 'an unknown key in metrics.service', values: { metrics: { service: { port: 9090 } } }, by: 'schema', error: /at '\/metrics\/service': additional properties 'port' not allowed/ },
  { name: 'maxUnavailable in the PDB', values: { podDisruptionBudget: { maxUnavailable: 1 } }, by: 'schema', error: /at '\/podDisruptionBudget': additional properties 'maxUnavailable' not allowed/ },
  { name: 'an unknown key in serviceAccount', values: { serviceAccount: { automount: true } }, by: 'schema', error: /at '\/serviceAccount': additional properties 'automount' not allowed/ },
  { name: 'a misspelt toleration field', values: { tolerations: [{ key: 'k', effectt: 'NoSchedule' }] }, by: 'schema', error: /at '\/tolerations\/0': additional properties 'effectt' not allowed/ },
  { name: 'a misspelt kind of affinity', values: { affinity: { nodeAfinity: {} } }, by: 'schema', error: /at '\/affinity': additional properties 'nodeAfinity' not allowed/ },
  // out of range
  { name: 'replicaCount 0', values: { replicaCount: 0 }, by: 'schema', error: /at '\/replicaCount': minimum: got 0, want 1/ },
  { name: 'replicaCount negative', values: { replicaCount: -1 }, by: 'schema', error: /at '\/replicaCount': minimum: got -1, want 1/ },
  { name: 'replicaCount 6', values: { replicaCount: 6 }, by: 'schema', error: /at '\/replicaCount': maximum: got 6, want 5/ },
  { name: 'metrics port 70000', values: { metrics: { port: 70000 } }, by: 'schema', error: /at '\/metrics\/port': maximum: got 70,?000, want 65,?535/ },
  { name: 'metrics port 0', values: { metrics: { port: 0 } }, by: 'schema', error: /at '\/metrics\/port': minimum: got 0, want 1/ },
  { name: 'console Service port 70000', values: { console: { service: { port: 70000 } } }, by: 'schema', error: /at '\/console\/service\/port': maximum/ },
  { name: 'no workers', values: { manager: { workers: 0 } }, by: 'schema', error: /at '\/manager\/workers': minimum: got 0, want 1/ },
  { name: 'a lease of 301 s', values: { manager: { leaderElection: { leaseDurationSeconds: 301 } } }, by: 'schema', error: /at '\/manager\/leaderElection\/leaseDurationSeconds': maximum/ },
  { name: 'a PDB keeping no pod', values: { podDisruptionBudget: { minAvailable: 0 } }, by: 'schema', error: /at '\/podDisruptionBudget\/minAvailable': minimum: got 0, want 1/ },
  { name: 'two consoles', values: { console: { replicas: 2 } }, by: 'schema', error: /at '\/console\/replicas': value must be 1/ },
  // not one of the choices
  { name: 'pullPolicy Sometimes', values: { image: { pullPolicy: 'Sometimes' } }, by: 'schema', error: /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/ },
  { name: 'logLevel verbose', values: { manager: { logLevel: 'verbose' } }, by: 'schema', error: /at '\/manager\/logLevel': value must be one of 'trace', 'debug', 'info', 'warn', 'error'/ },
  { name: 'a console Service of type Ingress', values: { console: { service: { type: 'Ingress' } } }, by: 'schema', error: /at '\/console\/service\/type': value must be one of/ },
  { name: 'a toleration operator Sometimes', values: { tolerations: [{ operator: 'Sometimes' }] }, by: 'schema', error: /at '\/tolerations\/0\/operator': value must be one of 'Exists', 'Equal'/ },
  // malformed strings
  { name: 'a tag in image.repository', values: { image: { repository: 'ghcr.io/zcsp/zcsp:0.1.0' } }, by: 'schema', error: /at '\/image\/repository': 'ghcr.io\/zcsp\/zcsp:0.1.0' does not match pattern/ },
  { name: 'an empty image.repository', values: { image: { repository: '' } }, by: 'schema', error: /at '\/image\/repository': '' does not match pattern/ },
  { name: 'a space in image.tag', values: { image: { tag: 'v1 rc' } }, by: 'schema', error: /at '\/image\/tag': 'v1 rc' does not match pattern/ },
  { name: 'an image pull secret that is no name', values: { imagePullSecrets: [{ name: 'Reg_Cred' }] }, by: 'schema', error: /at '\/imagePullSecrets\/0\/name': 'Reg_Cred' does not match pattern/ },
  { name: 'a session TTL in words', values: { console: { sessionTtl: '8 hours' } }, by: 'schema', error: /at '\/console\/sessionTtl': .*'8 hours' does not match pattern/s },
  { name: 'a session TTL of 0s', values: { console: { sessionTtl: '0s' } }, by: 'schema', error: /at '\/console\/sessionTtl': .*'0s' does not match pattern '\[1-9\]'/s },
  { name: 'a session idle time without unit', values: { console: { sessionIdle: '30' } }, by: 'schema', error: /at '\/console\/sessionIdle': .*'30' does not match pattern/s },
  { name: 'a public URL without scheme', values: { console: { publicUrl: 'console.example.com' } }, by: 'schema', error: /at '\/console\/publicUrl': 'console.example.com' does not match pattern/ },
  { name: 'a public URL over ftp', values: { console: { publicUrl: 'ftp://console.example.com' } }, by: 'schema', error: /at '\/console\/publicUrl': 'ftp:\/\/console.example.com' does not match pattern/ },
  { name: 'memory in MB', values: { resources: { limits: { memory: '512MB' } } }, by: 'schema', error: /at '\/resources\/limits\/memory': .*'512MB' does not match pattern/s },
  { name: 'a negative cpu request', values: { resources: { requests: { cpu: '-100m' } } }, by: 'schema', error: /at '\/resources\/requests\/cpu': .*'-100m' does not match pattern/s },
  { name: 'console memory in words', values: { console: { resources: { limits: { memory: 'lots' } } } }, by: 'schema', error: /at '\/console\/resources\/limits\/memory': .*'lots' does not match pattern/s },
  { name: 'a ServiceAccount name that is no name', values: { serviceAccount: { name: 'Zcsp_SA' } }, by: 'schema', error: /at '\/serviceAccount\/name': 'Zcsp_SA' does not match pattern/ },
  { name: 'a node selector value with a space', values: { nodeSelector: { zone: 'eu west' } }, by: 'schema', error: /at '\/nodeSelector\/zone': 'eu west' does not match pattern/ },
  { name: 'a pod label key that is no label key', values: { podLabels: { 'team name': 'dr' } }, by: 'schema', error: /at '\/podLabels': additional properties 'team name' not allowed/ },
  { name: 'a priority class name with spaces', values: { priorityClassName: 'High Priority' }, by: 'schema', error: /at '\/priorityClassName': 'High Priority' does not match pattern/ },
  { name: 'nameOverride in capitals', values: { nameOverride: 'ZCSP' }, by: 'schema', error: /at '\/nameOverride': 'ZCSP' does not match pattern/ },
  { name: 'fullnameOverride of 56 characters', values: { fullnameOverride: long(56) }, by: 'schema', error: /at '\/fullnameOverride': maxLength: got 56, want 55/ },
  { name: 'fullnameOverride starting with a digit', values: { fullnameOverride: '1dr' }, by: 'schema', error: /at '\/fullnameOverride': '1dr' does not match pattern/ },
  // one value against another
  { name: 'a lease no longer than the renew deadline', values: { manager: { leaderElection: { leaseDurationSeconds: 10 } } }, by: 'template', error: /manager\.leaderElection\.renewDeadlineSeconds \(10\) must be less than manager\.leaderElection\.leaseDurationSeconds \(10\)/ },
  { name: 'a renew deadline no longer than the retry period', values: { manager: { leaderElection: { retryPeriodSeconds: 10 } } }, by: 'template', error: /manager\.leaderElection\.retryPeriodSeconds \(10\) must be less than manager\.leaderElection\.renewDeadlineSeconds \(10\)/ },
  { name: 'a PDB keeping every manager pod', values: { podDisruptionBudget: { minAvailable: 2 } }, by: 'template', error: /podDisruptionBudget\.minAvailable \(2\) must be less than replicaCount \(2\)/ },
  { name: 'a PDB keeping more manager pods than there are', values: { replicaCount: 3, podDisruptionBudget: { minAvailable: 4 } }, by: 'template', error: /podDisruptionBudget\.minAvailable \(4\) must be less than replicaCount \(3\)/ },
  { name: 'serviceAccount.create false without a name', values: { serviceAccount: { create: false } }, by: 'template', error: /serviceAccount\.name is required when serviceAccount\.create is false/ },
  { name: 'the console\'s ServiceAccount for the manager', values: { serviceAccount: { name: 'zcsp-console' } }, by: 'template', error: /serviceAccount\.name \(zcsp-console\) is the console's ServiceAccount/ },
  { name: 'a selector label in podLabels', values: { podLabels: { 'app.kubernetes.io/component': 'api' } }, by: 'template', error: /podLabels\.app\.kubernetes\.io\/component: the chart sets this label itself/ },
  { name: 'a release name starting with a digit', values: {}, release: '1st', by: 'template', error: /object names would begin "1st-zcsp" \(from release "1st"\), but Service names must be DNS labels that start with a letter: set fullnameOverride/ },
];
