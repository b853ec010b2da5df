// Waiting on one VPG: a watch on just that object (fieldSelector metadata.name), started at the
// resourceVersion of the write the command made, so no change after it is missed. The watch is
// opened again when it ends (the API server closes watches, connections drop); when the
// resourceVersion is too old (410) the object is read afresh first. No polling: the only timer
// re-checks the last version seen, for followers that wait out a grace period.
import { isGone, statusCodeOf } from '../runtime/errors.ts';
import type { WatchEventType } from '../runtime/client.ts';
import { CommandError } from './errors.ts';
import { duration } from './format.ts';
import type { Follower } from './follow.ts';
import type { Vpg } from './vpg.ts';

/** Where the versions come from: the API server (vpgFeed) or, in tests, a script. */
export interface VpgFeed {
  get(): Promise<Vpg>;
  /** Opens a watch from resourceVersion; onDone is called once, when it ends, with the error if any. */
  watch(resourceVersion: string, onEvent: (type: WatchEventType, object: unknown) => void, onDone: (err: unknown) => void): Promise<AbortController>;
}

export interface WaitOptions {
  timeoutMs: number;
  /** What the timeout message says is awaited: "the failover test to run". */
  what: string;
  /** Where progress lines go (stderr). */
  progress: (line: string) => void;
  now?: () => number;
  /** How often the last version is shown to the follower again (default 5 s). */
  tickMs?: number;
  /** First delay before opening a failed watch again; doubles up to 10 s (default 500 ms). */
  retryMs?: number;
}

/** Feeds `first` and then every new version of the VPG to the follower until it is done. */
export function follow<T>(feed: VpgFeed, first: Vpg, follower: Follower<T>, options: WaitOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? 500;
  return new Promise<T>((resolve, reject) => {
    const state = { finished: false };
    // A call, not the field: TypeScript keeps a narrowed field narrowed across the calls that change it.
    const over = (): boolean => state.finished;
    let current = first;
    let resourceVersion = first.metadata?.resourceVersion ?? '';
    let relist = false;
    let failures = 0;
    let watch: AbortController | undefined;
    let retry: NodeJS.Timeout | undefined;

    const finish = (settle: () => void): void => {
      if (over()) return;
      state.finished = true;
      clearTimeout(deadline);
      clearInterval(tick);
      clearTimeout(retry);
      watch?.abort();
      settle();
    };
    const fail = (err: unknown): void => finish(() => reject(err instanceof Error ? err : new Error(String(err))));
    const observe = (vpg: Vpg): void => {
      if (over()) return;
      try {
        const step = follower.observe(vpg, now());
        for (const line of step.lines) options.progress(line);
        const done = step.done;
        if (done !== undefined) finish(() => resolve(done));
      } catch (err: unknown) {
        fail(err);
      }
    };
    const deleted = (): void => fail(new CommandError(`VPG ${first.metadata?.name ?? ''} was deleted while waiting for ${options.what}`));

    const onEvent = (type: WatchEventType, object: unknown): void => {
      if (over()) return;
      if (type === 'ERROR') {
        // A Status, typically 410 Expired; the API server closes the watch after it.
        relist = true;
        return;
      }
      if (type === 'DELETED') {
        deleted();
        return;
      }
      const vpg = object as Vpg;
      resourceVersion = vpg.metadata?.resourceVersion ?? resourceVersion;
      failures = 0;
      if (type !== 'BOOKMARK') {
        current = vpg;
        observe(vpg);
      }
    };
    const onDone = (err: unknown): void => {
      if (over()) return;
      watch = undefined;
      const code = statusCodeOf(err);
      if (code === 401 || code === 403) {
        fail(new CommandError(`cannot watch VPG ${first.metadata?.name ?? ''} (HTTP ${code}): waiting needs the get and watch verbs on vpgs.zcsp.io`));
        return;
      }
      if (code === 404) {
        deleted();
        return;
      }
      if (isGone(err)) relist = true;
      reopen();
    };
    const reopen = (): void => {
      // A watch that ends cleanly is the API server's timeout: reopen at once. Failures back off.
      const delay = failures === 0 ? 0 : Math.min(retryMs * 2 ** (failures - 1), 10_000);
      failures++;
      retry = setTimeout(() => {
        open().catch(onOpenError);
      }, delay);
    };
    const onOpenError = (err: unknown): void => {
      if (over()) return;
      const code = statusCodeOf(err);
      if (code === 404) deleted();
      else if (code === 401 || code === 403) fail(err);
      else {
        if (isGone(err)) relist = true;
        reopen();
      }
    };
    const open = async (): Promise<void> => {
      if (relist) {
        const fresh = await feed.get();
        if (over()) return;
        relist = false;
        current = fresh;
        resourceVersion = fresh.metadata?.resourceVersion ?? '';
        observe(fresh);
        if (over()) return;
      }
      const controller = await feed.watch(resourceVersion, onEvent, onDone);
      if (over()) controller.abort();
      else watch = controller;
    };

    const deadline = setTimeout(() => {
      fail(new CommandError(`timed out after ${duration(options.timeoutMs / 1000)} waiting for ${options.what}`));
    }, options.timeoutMs);
    const tick = setInterval(() => {
      observe(current);
    }, options.tickMs ?? 5000);

    observe(first);
    if (!over()) open().catch(onOpenError);
  });
}
