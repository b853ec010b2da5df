// What every rendering of the chart must satisfy, whatever the values: each check derives what it
// expects from the values the templates saw, so a value a template drops, misplaces or mixes up
// shows in the set that changes it.
import assert from 'node:assert/strict';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { parseDuration } from '../../../src/kubectl/args.ts';
import { parseManagerFlags } from '../../../src/manager/options.ts';
import { chartMetadata } from './chart-files.ts';
import { find, get, idOf, ofKind, selects, workload, workloads, type RenderedSet, type Workload } from './rendered-set.ts';

const CLUSTER_SCOPED = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Service names: a DNS label that starts with a letter. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CRDS = ['serviceprofiles.zcsp.io', 'sites.zcsp.io', 'vpgs.zcsp.io', 'zccs.zcsp.io', 'zorgs.zcsp.io'];

const managerName = (r: RenderedSet) => `${r.set.fullname}-manager`;
const consoleName = (r: RenderedSet) => `${r.set.fullname}-console`;
const managerServiceAccount = (r: RenderedSet) => r.values.serviceAccount.name || r.set.fullname;
const image = (r: RenderedSet) => `${r.values.image.repository}:${r.values.image.tag || chartMetadata().appVersion}`;
/** What a pod spec says for an empty map or list: nothing. */
const orAbsent = <T extends object>(value: T): T | undefined => (Object.keys(value).length === 0 ? undefined : value);

/** Every object the values ask for, by kind and name, and nothing else. */
export function inventory(r: RenderedSet): void {
  const { values: v } = r;
  const full = r.set.fullname;
  const expected = [
    `ClusterRole ${managerName(r)}`, `ClusterRoleBinding ${managerName(r)}`, `Role ${managerName(r)}`, `RoleBinding ${managerName(r)}`,
    `Deployment ${managerName(r)}`, `ValidatingAdmissionPolicy ${full}-vpg-operations`, `ValidatingAdmissionPolicyBinding ${full}-vpg-operations`,
    ...(v.serviceAccount.create ? [`ServiceAccount ${managerServiceAccount(r)}`] : []),
    ...(v.metrics.service.enabled ? [`Service ${full}-metrics`] : []),
    ...(v.podDisruptionBudget.enabled && v.replicaCount > 1 ? [`PodDisruptionBudget ${managerName(r)}`] : []),
    ...(v.console.enabled ? ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service'].map((k) => `${k} ${consoleName(r)}`) : []),
    ...(v.crds.install ? CRDS.map((n) => `CustomResourceDefinition ${n}`) : []),
  ];
  assert.deepEqual(r.objects.map((o) => `${o.kind} ${o.metadata.name}`).sort(), expected.sort());
  for (const crd of ofKind(r, 'CustomResourceDefinition')) {
    assert.equal(crd.metadata?.annotations?.['helm.sh/resource-policy'], 'keep', `CRD ${crd.metadata?.name ?? '?'} survives helm uninstall`);
  }
}

/** Namespaced objects in the release namespace, cluster-scoped ones in none; names and labels Kubernetes accepts. */
export function placementAndNames(r: RenderedSet): void {
  const ids = new Set<string>();
  const name = r.values.nameOverride || chartMetadata().name;
  for (const o of r.objects) {
    const id = idOf(o);
    assert.ok(!ids.has(id), `${id} is rendered twice`);
    ids.add(id);
    assert.equal(o.metadata.namespace, CLUSTER_SCOPED.has(o.kind) ? undefined : r.set.namespace, `namespace of ${id}`);
    const n = o.metadata.name;
    assert.ok(DNS_SUBDOMAIN.test(n) && n.length <= 253, `${id}: the name is no DNS-1123 subdomain`);
    // Namespaced objects (pods' prefixes, Services) need labels; cluster-scoped ones subdomains.
    if (!CLUSTER_SCOPED.has(o.kind)) assert.ok(DNS_LABEL.test(n) && n.length <= 63, `${id}: the name is no DNS-1123 label of at most 63 characters`);
    if (o.kind === 'Service') assert.ok(DNS_1035_LABEL.test(n) && n.length <= 63, `${id}: Service names are DNS-1035 labels`);
    const labels = o.metadata.labels ?? {};
    for (const [k, value] of Object.entries(labels)) assert.ok(LABEL_VALUE.test(value) && value.length <= 63, `${id}: label ${k}=${value} is no valid label value`);
    assert.equal(labels['app.kubernetes.io/name'], name, `${id}: app.kubernetes.io/name`);
    assert.equal(labels['app.kubernetes.io/instance'], r.set.release, `${id}: app.kubernetes.io/instance`);
    assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm', `${id}: app.kubernetes.io/managed-by`);
  }
}

const probePortExists = (probe: V1Probe | undefined, container: V1Container, where: string): void => {
  const port = probe?.httpGet?.port;
  if (port === undefined) return;
  const ports = container.ports ?? [];
  assert.ok(typeof port === 'number' ? ports.some((p) => p.containerPort === port) : ports.some((p) => p.name === port), `${where}: probe port ${port} is no port of the container`);
};

/** Every name an object uses for another resolves to an object of the release (or to a value the user gave). */
export function references(r: RenderedSet): void {
  const ns = r.set.namespace;
  const pods = workloads(r);
  const podAccounts = new Set(pods.map((w) => w.pod.serviceAccountName ?? ''));
  for (const w of pods) {
    assert.ok(selects(w.deployment.spec?.selector.matchLabels, w.podLabels), `Deployment ${w.name}: its selector picks its own pods`);
    const account = w.pod.serviceAccountName ?? '';
    const rendered = find(r, 'ServiceAccount', account);
    if (w.name === managerName(r) && !r.values.serviceAccount.create) {
      assert.equal(account, r.values.serviceAccount.name, 'the manager runs as the existing ServiceAccount');
      assert.equal(rendered, undefined, 'an existing ServiceAccount is not rendered');
    } else {
      assert.ok(rendered !== undefined, `Deployment ${w.name}: ServiceAccount ${account} is rendered`);
      assert.equal(rendered.metadata?.namespace, ns);
    }
    for (const c of w.pod.containers) {
      probePortExists(c.livenessProbe, c, `${w.name}/${c.name} liveness`);
      probePortExists(c.readinessProbe, c, `${w.name}/${c.name} readiness`);
      probePortExists(c.startupProbe, c, `${w.name}/${c.name} startup`);
    }
  }
  for (const b of ofKind(r, 'RoleBinding')) {
    assert.equal(b.roleRef.kind, 'Role');
    assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.equal(get(r, 'Role', b.roleRef.name).metadata?.namespace, ns);
  }
  for (const b of ofKind(r, 'ClusterRoleBinding')) {
    assert.equal(b.roleRef.kind, 'ClusterRole');
    get(r, 'ClusterRole', b.roleRef.name);
  }
  const bindings = [...ofKind(r, 'RoleBinding'), ...ofKind(r, 'ClusterRoleBinding')];
  for (const b of bindings) {
    for (const s of b.subjects ?? []) {
      assert.equal(s.kind, 'ServiceAccount');
      assert.equal(s.namespace, ns, `${b.metadata?.name ?? '?'}: the subject is in the release namespace`);
      assert.ok(podAccounts.has(s.name), `${b.metadata?.name ?? '?'}: subject ${s.name} is no pod's ServiceAccount (${[...podAccounts].join(', ')})`);
    }
  }
  const boundTo = (account: string, kind: string) => bindings.some((b) => b.kind === kind && b.subjects?.some((s) => s.name === account));
  const manager = workload(r, managerName(r)).pod.serviceAccountName ?? '';
  assert.ok(boundTo(manager, 'ClusterRoleBinding') && boundTo(manager, 'RoleBinding'), 'the manager\'s ServiceAccount holds its ClusterRole and its Role');
  if (r.values.console.enabled) assert.ok(boundTo(consoleName(r), 'ClusterRoleBinding'), 'the console\'s ServiceAccount holds its ClusterRole');

  const expectedBackend: Record<string, string> = { [`${r.set.fullname}-metrics`]: managerName(r), [consoleName(r)]: consoleName(r) };
  for (const svc of ofKind(r, 'Service')) {
    const name = svc.metadata?.name ?? '';
    const backends = pods.filter((w) => selects(svc.spec?.selector, w.podLabels));
    assert.deepEqual(backends.map((w) => w.name), [expectedBackend[name]], `Service ${name} selects exactly its Deployment's pods`);
    const containers = backends[0]?.pod.containers ?? [];
    for (const p of svc.spec?.ports ?? []) {
      const target = p.targetPort ?? p.port;
      assert.ok(containers.some((c) => c.ports?.some((cp) => (typeof target === 'number' ? cp.containerPort === target : cp.name === target))),
        `Service ${name}: target port ${target} is a port of its pods`);
    }
  }
  for (const pdb of ofKind(r, 'PodDisruptionBudget')) {
    assert.deepEqual(pods.filter((w) => selects(pdb.spec?.selector?.matchLabels, w.podLabels)).map((w) => w.name), [managerName(r)],
      'the PDB selects the manager pods and only them');
  }
  for (const b of ofKind(r, 'ValidatingAdmissionPolicyBinding')) {
    get(r, 'ValidatingAdmissionPolicy', b.spec.policyName);
  }
}

/** One image, repository:tag, in every container and in what the manager gives the pods it creates. */
export function images(r: RenderedSet): void {
  const expected = image(r);
  for (const w of workloads(r)) {
    for (const c of w.containers) {
      assert.equal(c.image, expected, `${w.name}/${c.name}: image`);
      assert.equal(c.imagePullPolicy, r.values.image.pullPolicy, `${w.name}/${c.name}: imagePullPolicy`);
    }
    assert.deepEqual(w.pod.imagePullSecrets, orAbsent(r.values.imagePullSecrets), `${w.name}: imagePullSecrets`);
  }
  const manager = workload(r, managerName(r)).pod.containers[0];
  assert.equal(manager?.env?.find((e) => e.name === 'ZCSP_IMAGE')?.value, expected, 'ZCSP_IMAGE, the image of the VRA and ZCC pods the manager creates');
}

/** Non-root, read-only, no capabilities, the runtime's seccomp profile: the manager and the console alike. */
export function security(r: RenderedSet): void {
  for (const w of workloads(r)) {
    const pod = w.pod.securityContext;
    assert.equal(pod?.runAsNonRoot, true, `${w.name}: runAsNonRoot`);
    assert.ok((pod.runAsUser ?? 0) > 0, `${w.name}: runAsUser is not root`);
    assert.equal(pod.seccompProfile?.type, 'RuntimeDefault', `${w.name}: seccomp`);
    assert.equal(w.pod.hostNetwork ?? false, false);
    for (const c of w.containers) {
      const sc = c.securityContext;
      assert.equal(sc?.readOnlyRootFilesystem, true, `${w.name}/${c.name}: readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${w.name}/${c.name}: allowPrivilegeEscalation`);
      assert.equal(sc.privileged ?? false, false, `${w.name}/${c.name}: privileged`);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${w.name}/${c.name}: drops every capability`);
      assert.equal(sc.capabilities.add, undefined, `${w.name}/${c.name}: adds none`);
    }
  }
}

const placement = (w: Workload, r: RenderedSet): void => {
  const v = r.values;
  assert.deepEqual(w.pod.nodeSelector, orAbsent(v.nodeSelector), `${w.name}: nodeSelector`);
  assert.deepEqual(w.pod.tolerations, v.tolerations.length === 0 ? undefined : v.tolerations, `${w.name}: tolerations`);
  assert.deepEqual(w.pod.affinity, orAbsent(v.affinity), `${w.name}: affinity`);
  assert.equal(w.pod.priorityClassName, v.priorityClassName || undefined, `${w.name}: priorityClassName`);
  for (const [k, value] of Object.entries(v.podLabels)) assert.equal(w.podLabels[k], value, `${w.name}: pod label ${k}`);
  for (const [k, value] of Object.entries(v.podAnnotations)) assert.equal(w.podAnnotations[k], value, `${w.name}: pod annotation ${k}`);
};

/** The manager's flags, read back by `zcsp manager`'s own parser; its port, resources, placement. */
export function managerValues(r: RenderedSet): void {
  const v = r.values;
  const w = workload(r, managerName(r));
  assert.equal(w.deployment.spec?.replicas, v.replicaCount, 'manager replicas');
  const c = w.pod.containers[0];
  assert.ok(c !== undefined && w.pod.containers.length === 1);
  assert.equal(c.args?.[0], 'manager');
  assert.deepEqual(parseManagerFlags(c.args.slice(1)), {
    httpPort: v.metrics.port, workers: v.manager.workers, logLevel: v.manager.logLevel, leaderElect: true,
    leaseDurationMs: v.manager.leaderElection.leaseDurationSeconds * 1000,
    renewDeadlineMs: v.manager.leaderElection.renewDeadlineSeconds * 1000,
    retryPeriodMs: v.manager.leaderElection.retryPeriodSeconds * 1000,
  });
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: v.metrics.port }]);
  assert.equal(w.podAnnotations['prometheus.io/port'], String(v.metrics.port));
  assert.deepEqual(c.env?.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
  assert.deepEqual(c.resources, orAbsent(v.resources));
  placement(w, r);
  const metrics = find(r, 'Service', `${r.set.fullname}-metrics`);
  if (metrics !== undefined) assert.deepEqual(metrics.spec?.ports?.map((p) => p.port), [v.metrics.port]);
  const account = find(r, 'ServiceAccount', managerServiceAccount(r));
  if (v.serviceAccount.create) assert.deepEqual(account?.metadata?.annotations, orAbsent(v.serviceAccount.annotations));
}

/** The console's flags (durations as `zcsp console` reads them), port, Service, resources, placement. */
export function consoleValues(r: RenderedSet): void {
  const c = r.values.console;
  if (!c.enabled) return;
  const w = workload(r, consoleName(r));
  assert.equal(w.deployment.spec?.replicas, 1, 'one console: sessions live in its memory');
  const container = w.pod.containers[0];
  assert.ok(container !== undefined && w.pod.containers.length === 1);
  assert.deepEqual(container.args, [
    'console', `--port=${c.port}`, `--session-ttl=${c.sessionTtl}`, `--session-idle=${c.sessionIdle}`,
    ...(c.publicUrl === '' ? [] : [`--public-url=${c.publicUrl}`]),
  ]);
  assert.ok(parseDuration('--session-ttl', c.sessionTtl) > 0 && parseDuration('--session-idle', c.sessionIdle) > 0);
  assert.deepEqual(container.ports, [{ name: 'http', containerPort: c.port }]);
  assert.deepEqual(container.resources, orAbsent(c.resources));
  const svc = get(r, 'Service', consoleName(r));
  assert.equal(svc.spec?.type, c.service.type);
  assert.deepEqual(svc.spec.ports?.map((p) => p.port), [c.service.port]);
  placement(w, r);
}

/** A PDB only where it can keep a standby without ever blocking a drain for good. */
export function disruptionBudget(r: RenderedSet): void {
  const pdb = find(r, 'PodDisruptionBudget', managerName(r));
  const replicas = workload(r, managerName(r)).deployment.spec?.replicas ?? 1;
  if (!r.values.podDisruptionBudget.enabled || replicas === 1) {
    assert.equal(pdb, undefined, 'no PDB when disabled or with one replica');
    return;
  }
  assert.ok(pdb !== undefined, 'a PDB for several replicas');
  const minAvailable = pdb.spec?.minAvailable;
  assert.equal(minAvailable, r.values.podDisruptionBudget.minAvailable);
  assert.ok(typeof minAvailable === 'number' && minAvailable < replicas, `minAvailable ${String(minAvailable)} leaves one of ${replicas} pods to evict`);
  assert.equal(pdb.spec?.maxUnavailable, undefined);
  assert.equal(pdb.spec?.unhealthyPodEvictionPolicy, 'AlwaysAllow', 'pods that are not Ready never hold up a drain');
}

export const INVARIANTS: readonly { name: string; check: (r: RenderedSet) => void }[] = [
  { name: 'renders what the values ask for, nothing else', check: inventory },
  { name: 'objects land in the release namespace with names Kubernetes accepts', check: placementAndNames },
  { name: 'every reference resolves', check: references },
  { name: 'one image, repository:tag, everywhere', check: images },
  { name: 'pods run as non-root, read-only, without capabilities', check: security },
  { name: 'the manager gets its values', check: managerValues },
  { name: 'the console gets its values', check: consoleValues },
  { name: 'a PDB only where it cannot block a drain forever', check: disruptionBudget },
];
