// A dynamic provisioner for the test StorageClass: each claim gets a directory on the node the
// scheduler picked (WaitForFirstConsumer: the PV controller hands the claim to us through the
// storage-provisioner annotation, the scheduler names the node in selected-node), exposed as a
// hostPath PV pinned to that node. The real PV controller in kube-controller-manager binds it.
// Released volumes with reclaimPolicy Delete are removed with their data.
import { mkdir, rm } from 'node:fs/promises';
import {
  CoreV1Api, StorageV1Api, type KubeConfig, type V1PersistentVolume, type V1PersistentVolumeClaim, type V1StorageClass,
} from '@kubernetes/client-node';
import { nodePath } from './layout.ts';

export const PROVISIONER_NAME = 'zcsp.io/local-hostpath';
export const STORAGE_CLASS_NAME = 'zcsp-local';
const PV_ROOT = '/var/lib/zcsp-local-pv';
const ANN_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

export interface ProvisionerOptions {
  kubeConfig: KubeConfig;
  clusterDir: string;
  /** Nodes the provisioner serves, for Immediate binding (spread round-robin). */
  nodes: readonly string[];
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export interface Provisioner {
  stop(): Promise<void>;
}

/** The StorageClass served by this provisioner; the cluster's default class. */
export function storageClass(): V1StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS_NAME, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER_NAME,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: false,
  };
}

/** The PV for a claim on a node; pure, so the shape is tested without a cluster. */
export function volumeFor(claim: V1PersistentVolumeClaim, sc: V1StorageClass, node: string): V1PersistentVolume {
  const uid = claim.metadata?.uid;
  if (uid === undefined) throw new Error('claim has no uid');
  const name = `pvc-${uid}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: PROVISIONER_NAME } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.['storage'] ?? '1Gi' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata?.name ?? STORAGE_CLASS_NAME,
      volumeMode: 'Filesystem',
      hostPath: { path: `${PV_ROOT}/${name}`, type: 'DirectoryOrCreate' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata?.namespace ?? '', name: claim.metadata?.name ?? '', uid },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
      },
    },
  };
}

function isConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 409 || err.code === 404);
}

export function startProvisioner(options: ProvisionerOptions): Provisioner {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const storage = options.kubeConfig.makeApiClient(StorageV1Api);
  let next = 0;
  // An object, not a let: TypeScript cannot see the closure in stop() flip a local boolean.
  const state = { stopped: false };

  async function pass(): Promise<void> {
    const [claims, volumes, classes] = await Promise.all([
      core.listPersistentVolumeClaimForAllNamespaces(),
      core.listPersistentVolume(),
      storage.listStorageClass(),
    ]);
    const ours = new Map(classes.items.filter((c) => c.provisioner === PROVISIONER_NAME).map((c) => [c.metadata?.name ?? '', c]));
    const existing = new Set(volumes.items.map((v) => v.metadata?.name));
    for (const claim of claims.items) {
      if (claim.status?.phase !== 'Pending' || claim.spec?.volumeName !== undefined) continue;
      if (claim.metadata?.annotations?.[ANN_PROVISIONER] !== PROVISIONER_NAME) continue;
      const sc = ours.get(claim.spec?.storageClassName ?? '');
      if (sc === undefined || existing.has(`pvc-${claim.metadata.uid ?? ''}`)) continue;
      if (claim.spec?.volumeMode === 'Block') continue; // hostPath serves filesystems only; the claim stays Pending
      let node = claim.metadata.annotations[ANN_SELECTED_NODE];
      if (node === undefined) {
        if (sc.volumeBindingMode === 'WaitForFirstConsumer' || options.nodes.length === 0) continue;
        node = options.nodes[next++ % options.nodes.length] ?? '';
      }
      const pv = volumeFor(claim, sc, node);
      await mkdir(nodePath(options.clusterDir, node, pv.spec?.hostPath?.path ?? ''), { recursive: true });
      try {
        await core.createPersistentVolume({ body: pv });
      } catch (err: unknown) {
        if (!isConflict(err)) throw err;
      }
    }
    for (const pv of volumes.items) {
      if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] !== PROVISIONER_NAME) continue;
      if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') continue;
      const node = pv.spec.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0];
      if (node !== undefined && pv.spec.hostPath?.path !== undefined) {
        await rm(nodePath(options.clusterDir, node, pv.spec.hostPath.path), { recursive: true, force: true });
      }
      try {
        await core.deletePersistentVolume({ name: pv.metadata.name ?? '' });
      } catch (err: unknown) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  const loop = (async () => {
    while (!state.stopped) {
      try {
        await pass();
      } catch (err: unknown) {
        options.onError?.(err);
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  })();

  return {
    async stop() {
      state.stopped = true;
      await loop;
    },
  };
}
