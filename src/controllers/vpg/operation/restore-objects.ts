// The objects that bring one volume of a checkpoint into a recovery namespace (the mover pattern,
// src/restore/README.md): a PersistentVolumeClaim like the protected one, a Secret with the
// export's one-off token and the recovery VRA's certificate, and a Job whose pod mounts the claim
// and runs `zcsp restore` against the export. Pure builders; the controller applies them.
import type { Job, PersistentVolumeClaim } from '../../../kube/objects.ts';
import { childName, type Secret } from '../../../runtime/index.ts';
import { ANNOTATION_EXPORT, ANNOTATION_CHECKPOINT, recoveryAnnotations, recoveryLabels, ROLE_RESTORE, type VpgRef } from './labels.ts';

/** Where the restore pod mounts the new claim and the Secret. */
export const RESTORE_MOUNT = '/restore';
export const EXPORT_MOUNT = '/var/run/zcsp/export';
/** Attempts of a restore pod before the volume counts as failed (each run starts clean: restore clears a partial run). */
export const RESTORE_BACKOFF_LIMIT = 3;

export interface RestoreTarget {
  vpg: VpgRef;
  /** The recovery namespace (test or live). */
  namespace: string;
  /** The protected claim: the recovered one gets the same name, so copied workloads find it unchanged. */
  source: PersistentVolumeClaim;
  /** Capacity of the protected volume (its bound size), as a quantity. */
  size: string;
  storageClassName: string | undefined;
  checkpointId: string;
  /** The recovery Site's node selector: the restore pod (and so the new volume) lands on that site. */
  nodeSelector: Record<string, string>;
  image: string;
  /** The recovery VRA's pull policy (unset: Kubernetes' default for the tag). */
  imagePullPolicy?: string | undefined;
  /** The recovery VRA's control endpoint and the certificate it serves. */
  vra: { host: string; port: number; cert: string; servername: string };
}

export interface Export {
  id: string;
  token: string;
  path: string;
}

/** Name of the Secret and the Job of one volume. */
export function restoreName(t: Pick<RestoreTarget, 'vpg' | 'source'>): string {
  return childName(['zcsp-restore', t.vpg.name, t.source.metadata?.name ?? '']);
}

export function recoveredClaim(t: RestoreTarget): PersistentVolumeClaim {
  const spec = t.source.spec;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: t.source.metadata?.name ?? '',
      namespace: t.namespace,
      labels: { ...t.source.metadata?.labels, ...recoveryLabels(t.vpg, ROLE_RESTORE) },
      annotations: { ...recoveryAnnotations(t.vpg), [ANNOTATION_CHECKPOINT]: t.checkpointId },
    },
    spec: {
      accessModes: spec?.accessModes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: t.size } },
      ...(spec?.volumeMode !== undefined && { volumeMode: spec.volumeMode }),
      ...(t.storageClassName !== undefined && { storageClassName: t.storageClassName }),
    },
  };
}

export function restoreSecret(t: RestoreTarget, exp: Export): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: restoreName(t),
      namespace: t.namespace,
      labels: recoveryLabels(t.vpg, ROLE_RESTORE),
      annotations: { ...recoveryAnnotations(t.vpg), [ANNOTATION_EXPORT]: exp.id },
    },
    type: 'Opaque',
    stringData: { token: exp.token, 'ca.crt': t.vra.cert, url: `https://${t.vra.host}:${t.vra.port}${exp.path}` },
  };
}

export function restoreJob(t: RestoreTarget, exp: Export): Job {
  const claim = t.source.metadata?.name ?? '';
  const labels = recoveryLabels(t.vpg, ROLE_RESTORE);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: restoreName(t),
      namespace: t.namespace,
      labels,
      annotations: { ...recoveryAnnotations(t.vpg), [ANNOTATION_EXPORT]: exp.id, [ANNOTATION_CHECKPOINT]: t.checkpointId },
    },
    spec: {
      backoffLimit: RESTORE_BACKOFF_LIMIT,
      template: {
        metadata: { labels, annotations: recoveryAnnotations(t.vpg) },
        spec: {
          restartPolicy: 'Never',
          nodeSelector: t.nodeSelector,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [{
            name: 'restore',
            image: t.image,
            ...(t.imagePullPolicy !== undefined && { imagePullPolicy: t.imagePullPolicy }),
            args: [
              'restore', '--from', `https://${t.vra.host}:${t.vra.port}${exp.path}`,
              '--token-file', `${EXPORT_MOUNT}/token`, '--ca-file', `${EXPORT_MOUNT}/ca.crt`, '--servername', t.vra.servername,
              '--into', RESTORE_MOUNT, '--verify',
            ],
            // The restore's last words (its JSON result, or why it failed) become the pod's
            // termination message: the operation quotes it.
            terminationMessagePolicy: 'FallbackToLogsOnError',
            volumeMounts: [
              { name: 'volume', mountPath: RESTORE_MOUNT },
              { name: 'export', mountPath: EXPORT_MOUNT, readOnly: true },
            ],
            // Root: the restored files keep their owners and modes, whatever they are.
            securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER', 'DAC_OVERRIDE', 'FSETID'] } },
          }],
          volumes: [
            { name: 'volume', persistentVolumeClaim: { claimName: claim } },
            { name: 'export', secret: { secretName: restoreName(t), defaultMode: 0o400 } },
          ],
        },
      },
    },
  };
}

/** What a finished restore Job says: done, failed (and why), or still going. */
export function restoreState(job: Job | undefined): { state: 'missing' | 'running' | 'done' } | { state: 'failed'; reason: string } {
  if (job === undefined) return { state: 'missing' };
  const c = job.status?.conditions ?? [];
  if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return { state: 'done' };
  const failed = c.find((x) => x.type === 'Failed' && x.status === 'True');
  if (failed !== undefined) return { state: 'failed', reason: failed.message ?? failed.reason ?? 'the restore pod failed' };
  return { state: 'running' };
}
