// The pods bound to this node, from an informer (list + watch with fieldSelector spec.nodeName).
// Every change hands the whole current set to `sync` (coalesced): the kubelet compares it with
// its workers, never acting on an event's type. The informer stops on errors other than 410
// Gone; it is restarted with back-off. A watch that goes quiet is re-established by client-node
// itself after 30 s without data, from the last resourceVersion.
import { ListWatch, Watch, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from './api.ts';
import { RetryBackoff } from './backoff.ts';

export interface PodSource {
  /** Resolves once the first list has been delivered (or failed, to be retried). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function podSource(options: {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  nodeName: string;
  sync: (pods: readonly V1Pod[]) => void;
  logger: Logger;
}): PodSource {
  const fieldSelector = `spec.nodeName=${options.nodeName}`;
  const informer = new ListWatch<V1Pod>(
    '/api/v1/pods',
    new Watch(options.kubeConfig),
    () => options.core.listPodForAllNamespaces({ fieldSelector }),
    false,
    undefined,
    fieldSelector,
  );
  const retry = new RetryBackoff(1000, 30_000);
  let stopped = false;
  let scheduled = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const deliver = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    // One sync for a burst of events (the initial list delivers every pod as an "add").
    setImmediate(() => {
      scheduled = false;
      if (!stopped) options.sync(informer.list());
    });
  };
  const start = async (): Promise<void> => {
    try {
      await informer.start();
    } catch (err: unknown) {
      onError(err);
    }
  };
  const onError = (err: unknown): void => {
    if (stopped) return;
    const delay = retry.next();
    options.logger.warn({ err: errorMessage(err), retryInMs: delay }, 'pod watch failed; restarting');
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => void start(), delay);
  };
  informer.on('add', deliver);
  informer.on('update', deliver);
  informer.on('delete', deliver);
  informer.on('connect', () => {
    retry.reset();
    deliver();
  });
  informer.on('error', onError);

  return {
    start,
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
