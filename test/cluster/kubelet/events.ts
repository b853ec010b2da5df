// Kubernetes Events about pods, as the kubelet records them (Started, Killing, BackOff, Unhealthy,
// FailedMount, Failed), so `kubectl describe pod` and `kubectl get events` explain what happened.
// Best effort: an event that cannot be written is dropped, and repeats within a minute are
// dropped too rather than counted.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from './api.ts';

const REPEAT_WINDOW_MS = 60_000;

export interface EventRecorder {
  /** `container` sets the event's fieldPath to that container. */
  record(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void;
}

export function apiEventRecorder(core: CoreV1Api, nodeName: string, logger: Logger): EventRecorder {
  const recent = new Map<string, number>();
  return {
    record(pod, type, reason, message, container) {
      const namespace = pod.metadata?.namespace ?? 'default';
      const name = pod.metadata?.name ?? '';
      const key = `${pod.metadata?.uid ?? ''}/${container ?? ''}/${reason}/${message}`;
      const now = Date.now();
      const last = recent.get(key);
      if (last !== undefined && now - last < REPEAT_WINDOW_MS) return;
      recent.set(key, now);
      if (recent.size > 1000) for (const [k, t] of recent) if (now - t > REPEAT_WINDOW_MS) recent.delete(k);
      const at = new Date();
      const list = container === undefined ? undefined : (pod.spec?.initContainers ?? []).some((c) => c.name === container) ? 'initContainers' : 'containers';
      void core
        .createNamespacedEvent({
          namespace,
          body: {
            metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
            involvedObject: {
              apiVersion: 'v1',
              kind: 'Pod',
              name,
              namespace,
              ...(pod.metadata?.uid !== undefined && { uid: pod.metadata.uid }),
              ...(container !== undefined && { fieldPath: `spec.${list ?? 'containers'}{${container}}` }),
            },
            type,
            reason,
            message,
            source: { component: 'kubelet', host: nodeName },
            reportingComponent: 'kubelet',
            reportingInstance: nodeName,
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
          },
        })
        .catch((err: unknown) => logger.debug({ err: errorMessage(err), reason }, 'event not recorded'));
    },
  };
}
