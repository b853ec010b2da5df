import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseObject } from '../../crds/parse.ts';
import { siteKind, type Site } from '../../crds/site.ts';
import { OperatorConfig } from '../config.ts';
import { desiredVraClaim, desiredVraPod, specHash, vraName, vraPodSpec, vraSecurityContext } from './vra-pod.ts';

function must<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

const config = OperatorConfig.parse({ namespace: 'zcsp-system', image: 'ghcr.io/zcsp/zcsp:1.0.0' });

function site(spec: Record<string, unknown> = {}): Site {
  return parseObject(siteKind, {
    apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'dr', uid: 'u1' },
    spec: { nodeSelector: { 'zcsp.io/site': 'dr' }, ...spec },
  });
}

describe('desiredVraPod', () => {
  const dr = site({ vra: { readHostPaths: ['/var/lib/kubelet', '/var/lib/zcsp-local-pv'], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } }, storage: { size: '20Gi' } } });
  const pod = desiredVraPod(config, 'dr', dr.spec, 'dr-1');
  const meta = must(pod.metadata);
  const annotations = must(meta.annotations);
  const spec = must(pod.spec);
  const container = must(spec.containers[0]);

  it('is named after site and node, labelled for the site, node and role, in the provider namespace', () => {
    assert.equal(meta.name, 'vra-dr-dr-1');
    assert.equal(meta.namespace, 'zcsp-system');
    assert.deepEqual(meta.labels, {
      'app.kubernetes.io/name': 'zcsp', 'app.kubernetes.io/component': 'vra', 'app.kubernetes.io/managed-by': 'zcsp-operator',
      'zcsp.io/role': 'vra', 'zcsp.io/site': 'dr', 'zcsp.io/node': 'dr-1',
    });
    assert.equal(annotations['zcsp.io/site-name'], 'dr');
    assert.equal(annotations['zcsp.io/node-name'], 'dr-1');
    assert.equal(annotations['zcsp.io/spec-hash'], specHash(vraPodSpec(config, 'dr', dr.spec, 'dr-1')));
  });

  it('is pinned to its node by a required node affinity on the node name, and tolerates what node agents tolerate', () => {
    assert.equal(spec.nodeName, undefined, 'the scheduler binds it (volume topology, resources)');
    assert.deepEqual(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['dr-1'] }] },
    ]);
    const tolerated = spec.tolerations?.map((t) => `${t.key ?? ''}:${t.effect ?? ''}`) ?? [];
    assert.ok(tolerated.includes('node.kubernetes.io/unschedulable:NoSchedule'));
    assert.ok(tolerated.includes('node.kubernetes.io/not-ready:NoExecute'));
  });

  it('runs `vra` with probes, env, resources, its volume and the host paths read-only', () => {
    assert.equal(container.image, 'ghcr.io/zcsp/zcsp:1.0.0');
    assert.deepEqual(container.args, [
      'vra', '--port', '9440', '--control-port', '9441', '--health-port', '9442',
      '--data-dir', '/var/lib/zcsp/vra', '--control-token-file', '/etc/zcsp/vra/token',
    ]);
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'vra-health' });
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'vra-health' });
    assert.deepEqual(container.ports, [
      { name: 'vra', containerPort: 9440, protocol: 'TCP' },
      { name: 'vra-control', containerPort: 9441, protocol: 'TCP' },
      { name: 'vra-health', containerPort: 9442, protocol: 'TCP' },
    ]);
    assert.deepEqual(container.env?.map((e) => e.name), ['NODE_NAME', 'POD_NAME', 'POD_NAMESPACE', 'POD_IP', 'ZCSP_SITE', 'ZCSP_HOST_ROOT']);
    assert.equal(must(container.env).find((e) => e.name === 'ZCSP_SITE')?.value, 'dr');
    assert.deepEqual(container.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    assert.deepEqual(container.volumeMounts, [
      { name: 'data', mountPath: '/var/lib/zcsp/vra' },
      { name: 'control', mountPath: '/etc/zcsp/vra', readOnly: true },
      { name: 'host-0', mountPath: '/host/var/lib/kubelet', readOnly: true, mountPropagation: 'HostToContainer' },
      { name: 'host-1', mountPath: '/host/var/lib/zcsp-local-pv', readOnly: true, mountPropagation: 'HostToContainer' },
    ]);
    assert.deepEqual(spec.volumes, [
      { name: 'data', persistentVolumeClaim: { claimName: 'vra-dr-dr-1' } },
      { name: 'control', secret: { secretName: 'zcsp-vra-control', defaultMode: 0o400 } },
      { name: 'host-0', hostPath: { path: '/var/lib/kubelet' } },
      { name: 'host-1', hostPath: { path: '/var/lib/zcsp-local-pv' } },
    ]);
    assert.equal(spec.automountServiceAccountToken, false);
  });

  it('uses the Site\'s image when it names one; no resources when the Site sets none', () => {
    const custom = desiredVraPod(config, 'dr', site({ vra: { image: 'registry.example/zcsp:2.0.0' } }).spec, 'dr-1');
    const c = must(must(custom.spec).containers[0]);
    assert.equal(c.image, 'registry.example/zcsp:2.0.0');
    assert.equal(c.resources, undefined);
    assert.equal(must(c.volumeMounts)[2]?.mountPath, '/host/var/lib/kubelet', 'the default host path');
  });

  it('pulls as the operator was told to, with its pull secrets; with neither, the spec (and its hash) as before', () => {
    const pulling = OperatorConfig.parse({ ...config, imagePullPolicy: 'Always', imagePullSecrets: ['regcred', 'mirror'] });
    const spec = vraPodSpec(pulling, 'dr', dr.spec, 'dr-1');
    assert.equal(must(spec.containers[0]).imagePullPolicy, 'Always');
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }, { name: 'mirror' }]);
    assert.notEqual(specHash(spec), specHash(vraPodSpec(config, 'dr', dr.spec, 'dr-1')), 'a new pull setting replaces the VRAs');
    assert.equal('imagePullSecrets' in vraPodSpec(config, 'dr', dr.spec, 'dr-1'), false);
    assert.equal('imagePullPolicy' in container, false);
  });
});

describe('vraSecurityContext', () => {
  it('reads any file and keeps replicas as root with two capabilities, nothing more', () => {
    const sc = vraSecurityContext(site({ vra: { readHostPaths: ['/var/lib/kubelet', '/mnt/disks'] } }).spec);
    assert.equal(sc.privileged, undefined);
    assert.equal(sc.runAsUser, 0);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'], add: ['DAC_READ_SEARCH', 'DAC_OVERRIDE'] });
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
  });

  it('is privileged only for a Site whose VRAs read device nodes (raw block volumes)', () => {
    for (const path of ['/dev', '/dev/disk/by-id']) {
      assert.equal(vraSecurityContext(site({ vra: { readHostPaths: ['/var/lib/kubelet', path] } }).spec).privileged, true, path);
    }
    for (const path of ['/devices', '/var/dev', '/mnt/dev']) {
      assert.equal(vraSecurityContext(site({ vra: { readHostPaths: [path] } }).spec).privileged, undefined, path);
    }
  });

  it('is part of the pod spec, so changing it replaces the VRAs', () => {
    const plain = site({ vra: { readHostPaths: ['/var/lib/kubelet'] } });
    const block = site({ vra: { readHostPaths: ['/var/lib/kubelet', '/dev'] } });
    assert.notEqual(specHash(vraPodSpec(config, 'dr', plain.spec, 'dr-1')), specHash(vraPodSpec(config, 'dr', block.spec, 'dr-1')));
    assert.deepEqual(vraPodSpec(config, 'dr', plain.spec, 'dr-1').containers[0]?.securityContext, vraSecurityContext(plain.spec));
  });
});

describe('specHash', () => {
  const base = site();
  const hash = (s: Site, node = 'dr-1') => desiredVraPod(config, 'dr', s.spec, node).metadata?.annotations?.['zcsp.io/spec-hash'];

  it('is stable: the same Site gives the same hash, whatever the key order', () => {
    assert.match(hash(base) ?? '', /^[0-9a-f]{16}$/);
    assert.equal(hash(base), hash(site()));
    const spec = vraPodSpec(config, 'dr', base.spec, 'dr-1');
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    assert.equal(specHash(reordered), specHash(spec));
  });

  it('changes with what the pod runs, and only with that', () => {
    assert.notEqual(hash(site({ vra: { image: 'x/zcsp:2' } })), hash(base));
    assert.notEqual(hash(site({ vra: { readHostPaths: ['/var/lib/kubelet', '/mnt/disks'] } })), hash(base));
    assert.notEqual(hash(site({ vra: { resources: { limits: { memory: '1Gi' } } } })), hash(base));
    assert.notEqual(hash(base, 'dr-2'), hash(base));
    // The volume's size and the site's bandwidth are not in the pod: changing them replaces no VRA.
    assert.equal(hash(site({ vra: { storage: { size: '100Gi' } } })), hash(base));
    assert.equal(hash(site({ bandwidth: { limitMbps: 100 } })), hash(base));
  });
});

describe('desiredVraClaim', () => {
  it('asks for the Site\'s size and class, one ReadWriteOnce volume per VRA, named like the pod', () => {
    const claim = desiredVraClaim(config, 'dr', site({ vra: { storage: { size: '20Gi', storageClassName: 'fast' } } }).spec, 'dr-2');
    assert.equal(claim.metadata?.name, 'vra-dr-dr-2');
    assert.equal(must(claim.metadata).labels?.['zcsp.io/node'], 'dr-2');
    assert.deepEqual(claim.spec, { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
    assert.equal(must(claim.metadata).annotations?.['volume.kubernetes.io/selected-node'], undefined, 'the scheduler picks the node');
  });

  it('leaves the class to the cluster default when the Site names none; sizes may be plain byte counts', () => {
    const claim = desiredVraClaim(config, 'dr', site({ vra: { storage: { size: 1073741824 } } }).spec, 'dr-2');
    const spec = must(claim.spec);
    assert.equal(spec.storageClassName, undefined);
    assert.equal(spec.resources?.requests?.['storage'], '1073741824');
    assert.equal(desiredVraClaim(config, 'dr', site().spec, 'n').spec?.resources?.requests?.['storage'], '50Gi', 'the default size');
  });
});

describe('vraName', () => {
  it('stays a DNS label for long site and node names, and unique', () => {
    const long = vraName('a-very-long-site-name-for-a-region', 'ip-10-0-123-45.eu-central-1.compute.internal');
    assert.ok(long.length <= 63);
    assert.notEqual(long, vraName('a-very-long-site-name-for-a-region', 'ip-10-0-123-46.eu-central-1.compute.internal'));
  });
});
