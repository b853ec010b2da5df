// A task run every `intervalMs`, one run at a time; a failed run is retried sooner (back-off up to
// the interval), as the kubelet retries its node status and lease updates.
import type { Logger } from 'pino';
import { errorMessage } from './api.ts';
import { RetryBackoff } from './backoff.ts';

export interface Periodic {
  stop(): void;
}

export function every(name: string, intervalMs: number, task: () => Promise<void>, logger: Logger): Periodic {
  const retry = new RetryBackoff(Math.min(200, intervalMs), intervalMs);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void run(), ms);
    // Heartbeats alone do not keep the test process alive.
    timer.unref();
  };
  const run = async (): Promise<void> => {
    try {
      await task();
      retry.reset();
      schedule(intervalMs);
    } catch (err: unknown) {
      const delay = retry.next();
      if (!stopped) logger.warn({ err: errorMessage(err), retryInMs: delay }, `${name} failed`);
      schedule(delay);
    }
  };
  schedule(intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
