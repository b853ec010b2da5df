// The kind path cannot run here (no Docker), so this keeps its pieces consistent: kind-config.yaml,
// the StorageClass of tools/kind, the chart as helm renders it, the pods the operator makes for
// the examples' Sites and ZCCs (from its own code), and the examples. If they agree, `npm run
// kind:up` gives the examples the nodes, image and folders they need.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1PodSpec } from '@kubernetes/client-node';
import { configFromEnv, type OperatorConfig } from '../../src/controllers/config.ts';
import { desiredVraPod } from '../../src/controllers/site/vra-pod.ts';
import { desiredDeployment } from '../../src/controllers/zcc/objects.ts';
import { parseObject } from '../../src/crds/parse.ts';
import { siteKind, type Site } from '../../src/crds/site.ts';
import { zccKind } from '../../src/crds/zcc.ts';
import { STORAGE_CLASS_NAME } from '../../test/cluster/provisioner.ts';
import {
  exampleDocs, helmTemplate, kindConfig, kindOf, podSpecs, readYaml, RELEASE_NAMESPACE, selects, upConfig,
  type Doc, type KindConfig, type KindNode,
} from './repo.ts';

/**
 * Folders every kind node has of its own, so kind-config.yaml need not mount them. Keep this
 * short: anything else a pod mounts from a node must come from an extraMount.
 */
const KIND_NODE_PATHS = [
  '/var/lib/kubelet', // the kubelet's root: pods' volumes, including CSI ones, are mounted under it
];

/** The provisioner of kind's bundled local-path-provisioner, and the class kind makes for it. */
const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
const KIND_STANDARD_CLASS = 'standard';

const under = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);

/** Whether a node has `path`: from an extraMount, or as one of its own folders. */
function provided(node: KindNode, path: string): boolean {
  return KIND_NODE_PATHS.some((p) => under(path, p)) || (node.extraMounts ?? []).some((m) => under(path, m.containerPath));
}

const hostPaths = (spec: V1PodSpec): string[] => (spec.volumes ?? []).flatMap((v) => (v.hostPath === undefined ? [] : [v.hostPath.path]));
const images = (spec: V1PodSpec): string[] => [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.image ?? '(no image)');

describe('the kind path: kind-config.yaml, tools/kind, the chart and examples/ agree', () => {
  let cfg: KindConfig;
  let workers: KindNode[];
  let examples: Doc[];
  let sites: { name: string; spec: Site['spec'] }[];
  let up: Record<string, string>;
  let nodeKubernetes: string;
  let chart: Doc[];
  let operator: OperatorConfig;
  let storageFolder: string;

  before(async () => {
    cfg = kindConfig();
    workers = cfg.nodes.filter((n) => n.role === 'worker');
    examples = exampleDocs();
    sites = examples.filter((d) => kindOf(d) === 'Site').map((d) => {
      const site = parseObject(siteKind, d.object);
      assert.ok(site.metadata.name !== undefined, `${d.source}: a Site without metadata.name`);
      return { name: site.metadata.name, spec: site.spec };
    });
    up = await upConfig();
    const version = /^kindest\/node:v(\d+\.\d+\.\d+)@/.exec(cfg.nodes[0]?.image ?? '')?.[1];
    assert.ok(version !== undefined, `kind-config.yaml: nodes[0].image "${cfg.nodes[0]?.image ?? ''}" is not kindest/node:vX.Y.Z@sha256:…`);
    nodeKubernetes = version;
    chart = await helmTemplate(['--kube-version', nodeKubernetes]);
    const manager = podSpecs(chart).find((p) => p.source.startsWith('Deployment zcsp-manager'));
    assert.ok(manager !== undefined, 'helm template renders no Deployment zcsp-manager');
    const env = Object.fromEntries((manager.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    operator = configFromEnv({ POD_NAMESPACE: RELEASE_NAMESPACE, ZCSP_IMAGE: env['ZCSP_IMAGE'] });
    storageFolder = zcspLocalFolder();
  });

  it('kind-config.yaml: one control plane and four workers, all on one node image pinned by digest', () => {
    assert.deepEqual(cfg.nodes.map((n) => n.role), ['control-plane', 'worker', 'worker', 'worker', 'worker'], 'kind-config.yaml: nodes[].role');
    assert.equal(up['cluster'], cfg.name, 'up.sh names the cluster after kind-config.yaml\'s name');
    for (const [i, node] of cfg.nodes.entries()) {
      assert.match(node.image ?? '', /^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/, `kind-config.yaml: nodes[${i}].image must be a kindest/node image pinned by digest`);
      assert.equal(node.image, cfg.nodes[0]?.image, `kind-config.yaml: nodes[${i}].image differs from nodes[0].image`);
    }
  });

  it('every Site of examples/ selects kind workers, and every worker is in exactly one Site', () => {
    assert.ok(sites.length > 0, 'examples/ define no Site');
    for (const site of sites) {
      const selector = site.spec.nodeSelector;
      const nodes = cfg.nodes.filter((n) => selects(selector, n));
      assert.ok(nodes.length > 0, `Site ${site.name}: nodeSelector ${JSON.stringify(selector)} matches no node of kind-config.yaml`);
      for (const n of nodes) assert.equal(n.role, 'worker', `Site ${site.name} selects the control plane ${n.name}: it has no extraMounts and runs no workloads`);
    }
    for (const worker of workers) {
      const of = sites.filter((s) => selects(s.spec.nodeSelector, worker)).map((s) => s.name);
      assert.equal(of.length, 1, `kind-config.yaml: worker ${worker.name} (labels ${JSON.stringify(worker.labels ?? {})}) is in Sites [${of.join(', ')}], not exactly one`);
    }
  });

  it('every nodeSelector of the examples\' workloads matches a kind worker', () => {
    for (const { source, spec } of podSpecs(examples)) {
      const selector = spec.nodeSelector ?? {};
      assert.ok(workers.some((w) => selects(selector, w)), `${source}: nodeSelector ${JSON.stringify(selector)} matches no worker of kind-config.yaml`);
    }
  });

  it('the chart, the VRAs and ZCCs it starts, and the examples all run the image up.sh builds', () => {
    const image = up['image'] ?? '';
    assert.equal(up['examples_image'], image, 'up.sh: by default the image it builds is the one examples/ run');
    for (const { source, spec } of podSpecs(chart)) {
      for (const i of images(spec)) assert.equal(i, image, `helm template: ${source} runs ${i}, up.sh builds ${image}`);
    }
    assert.equal(operator.image, image, 'helm template: the manager\'s ZCSP_IMAGE (the VRAs\' and ZCCs\' image)');
    for (const site of sites) {
      for (const node of workers.filter((w) => selects(site.spec.nodeSelector, w))) {
        const pod = desiredVraPod(operator, site.name, site.spec, node.name);
        for (const i of images(pod.spec ?? { containers: [] })) assert.equal(i, image, `the VRA of Site ${site.name} on ${node.name} runs ${i}`);
      }
    }
    for (const doc of examples.filter((d) => kindOf(d) === 'ZCC')) {
      const zcc = parseObject(zccKind, doc.object);
      const name = zcc.metadata.name ?? '';
      const deployment = desiredDeployment(operator, { name, zorg: zcc.spec.zorg }, { replicas: 1, secretName: 'credentials', credentialsHash: '' });
      for (const i of images(deployment.spec?.template.spec ?? { containers: [] })) assert.equal(i, image, `the connector of ZCC ${name} runs ${i}`);
    }
    const workloads = podSpecs(examples);
    assert.ok(workloads.length > 0, 'examples/ have no workload');
    for (const { source, spec } of workloads) {
      for (const i of images(spec)) assert.equal(i, image, `${source} runs ${i}: kind:up loads only ${image}`);
    }
  });

  it('every folder a pod mounts from its node is on each kind node it may run on', () => {
    const check = (source: string, spec: V1PodSpec, nodes: readonly KindNode[]): void => {
      for (const path of hostPaths(spec)) {
        for (const node of nodes) {
          assert.ok(provided(node, path), `${source}: hostPath ${path} is not on kind node ${node.name}: no extraMount of kind-config.yaml has it (or a folder above it) as containerPath, and kind nodes have only ${KIND_NODE_PATHS.join(', ')} of their own`);
        }
      }
    };
    const on = (spec: V1PodSpec): KindNode[] => workers.filter((w) => selects(spec.nodeSelector ?? {}, w));
    for (const { source, spec } of podSpecs(chart)) check(`helm template: ${source}`, spec, on(spec));
    for (const { source, spec } of podSpecs(examples)) check(source, spec, on(spec));
    for (const site of sites) {
      for (const node of workers.filter((w) => selects(site.spec.nodeSelector, w))) {
        const spec = desiredVraPod(operator, site.name, site.spec, node.name).spec ?? { containers: [] };
        assert.deepEqual(hostPaths(spec), site.spec.vra.readHostPaths, `the VRA of Site ${site.name} mounts its readHostPaths`);
        check(`the VRA of Site ${site.name} (spec.vra.readHostPaths)`, spec, [node]);
      }
    }
    for (const node of workers) {
      assert.ok(provided(node, storageFolder), `tools/kind/local-path-config.yaml: ${STORAGE_CLASS_NAME} keeps volumes in ${storageFolder}, which is not on kind node ${node.name}`);
    }
  });

  it(`the VRAs of every Site can read the volumes of ${STORAGE_CLASS_NAME}, the class the examples' claims get`, () => {
    for (const site of sites) {
      assert.ok(site.spec.vra.readHostPaths.some((p) => under(storageFolder, p)), `Site ${site.name}: spec.vra.readHostPaths ${JSON.stringify(site.spec.vra.readHostPaths)} does not hold ${storageFolder}, where ${STORAGE_CLASS_NAME} keeps volumes on kind`);
    }
    const classes = [STORAGE_CLASS_NAME, KIND_STANDARD_CLASS];
    for (const doc of examples.filter((d) => kindOf(d) === 'PersistentVolumeClaim')) {
      const name = (doc.object['spec'] as { storageClassName?: string } | undefined)?.storageClassName;
      // No class: the default one, which is zcsp-local on kind (storage.yaml; up.sh unmarks `standard`).
      assert.ok(name === undefined || name === STORAGE_CLASS_NAME, `${doc.source}: storageClassName ${String(name)}: on kind, claims the VRAs read must be of ${STORAGE_CLASS_NAME}`);
    }
    for (const site of sites) {
      const name = site.spec.vra.storage.storageClassName;
      assert.ok(name === undefined || classes.includes(name), `Site ${site.name}: spec.vra.storage.storageClassName ${name ?? ''} is not a class of the kind cluster (${classes.join(', ')})`);
    }
  });

  it(`tools/kind/storage.yaml: ${STORAGE_CLASS_NAME}, the default class, WaitForFirstConsumer, on kind's local-path provisioner`, () => {
    const docs = readYaml('tools/kind/storage.yaml');
    assert.deepEqual(docs.map(kindOf), ['StorageClass'], 'tools/kind/storage.yaml: one StorageClass');
    const sc = docs[0]?.object as { metadata: { name: string; annotations?: Record<string, string> }; provisioner: string; volumeBindingMode: string };
    assert.equal(sc.metadata.name, STORAGE_CLASS_NAME, 'tools/kind/storage.yaml: metadata.name: the local cluster\'s class name (test/cluster/provisioner.ts)');
    assert.equal(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true', 'tools/kind/storage.yaml: the default class');
    assert.equal(sc.provisioner, LOCAL_PATH_PROVISIONER, 'tools/kind/storage.yaml: provisioner');
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer', 'tools/kind/storage.yaml: volumeBindingMode');
    assert.match(storageFolder, /^\/./, 'tools/kind/local-path-config.yaml: the folder must be absolute and not /');
  });
});

/**
 * The folder where kind's local-path provisioner keeps volumes of zcsp-local, from the config
 * up.sh gives it; it must also still serve kind's own `standard` class, or that class breaks.
 */
function zcspLocalFolder(): string {
  const file = 'tools/kind/local-path-config.yaml';
  const [doc] = readYaml(file);
  const json = (doc?.object['data'] as Record<string, unknown> | undefined)?.['config.json'];
  assert.equal(typeof json, 'string', `${file}: data["config.json"] must be a string`);
  const config = JSON.parse(json as string) as {
    nodePathMap?: unknown[];
    storageClassConfigs?: Record<string, { nodePathMap?: { node: string; paths: string[] }[] }>;
  };
  assert.deepEqual(config.nodePathMap ?? [], [], `${file}: config.json nodePathMap must be empty when storageClassConfigs is used`);
  const classes = config.storageClassConfigs ?? {};
  for (const name of [STORAGE_CLASS_NAME, KIND_STANDARD_CLASS]) {
    assert.ok(name in classes, `${file}: config.json storageClassConfigs has no "${name}": the provisioner refuses claims of a class it has no entry for`);
  }
  const map = classes[STORAGE_CLASS_NAME]?.nodePathMap ?? [];
  assert.deepEqual(map.map((m) => m.node), ['DEFAULT_PATH_FOR_NON_LISTED_NODES'], `${file}: storageClassConfigs["${STORAGE_CLASS_NAME}"].nodePathMap: one entry, for every node`);
  const paths = map[0]?.paths ?? [];
  assert.equal(paths.length, 1, `${file}: storageClassConfigs["${STORAGE_CLASS_NAME}"].nodePathMap[0].paths: one folder`);
  return paths[0] ?? '';
}
