import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, runWorkers } from './workqueue.ts';

/** A promise and its resolver: lets a test hold a worker inside its handler. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets queued microtasks (workers waking up) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('WorkQueue', () => {
  afterEach(() => mock.timers.reset());

  it('queues a key added twice while waiting once', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    q.done('a');
    q.done('b');
    assert.equal(q.length, 0);
  });

  it('never hands a key being processed to a second worker, and processes it again after', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    q.add('a');
    // In flight: not handed out again yet.
    assert.equal(q.length, 0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await settle();
    assert.equal(second, undefined);
    q.done('a');
    await settle();
    assert.equal(second, 'a', 'added while processing: processed again once, after');
    q.done('a');
    assert.equal(q.length, 0);
  });

  it('runs N workers, never two on one key, and processes every add made during processing', async () => {
    const q = new WorkQueue<string>();
    const active = new Set<string>();
    const processed: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
    const workers = runWorkers(q, 3, async (key) => {
      assert.ok(!active.has(key), `${key} processed by two workers at once`);
      active.add(key);
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const g = gate();
      gates.set(key, g);
      await g.promise;
      processed.push(key);
      active.delete(key);
      concurrent--;
    });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await settle();
    assert.deepEqual([...active].sort(), ['a', 'b', 'c'], 'three workers busy, d waits');
    q.add('a');
    gates.get('a')?.open();
    await settle();
    // a's worker took d; a (re-added) waits for a free worker.
    assert.ok(active.has('d'));
    gates.get('b')?.open();
    await settle();
    assert.ok(active.has('a'), 'a processed again after its first run');
    for (const k of ['c', 'd', 'a']) gates.get(k)?.open();
    await settle();
    const done = q.shutdown({ drain: true });
    await done;
    await workers;
    assert.equal(maxConcurrent, 3);
    assert.deepEqual(processed.filter((k) => k === 'a').length, 2);
    assert.deepEqual([...processed].sort(), ['a', 'a', 'b', 'c', 'd']);
  });

  it('grows the per-key backoff exponentially up to the cap, and forget resets it', () => {
    const q = new WorkQueue<string>({ backoff: { baseMs: 100, maxMs: 1000, jitter: 0 } });
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const delays = Array.from({ length: 6 }, () => q.addRateLimited('a'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(q.retries('a'), 6);
    assert.equal(q.addRateLimited('b'), 100, 'per key');
    q.forget('a');
    assert.equal(q.retries('a'), 0);
    assert.equal(q.addRateLimited('a'), 100);
  });

  it('jitter only shortens a delay', () => {
    for (const random of [0, 0.5, 0.999]) {
      const q = new WorkQueue<string>({ backoff: { baseMs: 100, maxMs: 1000, jitter: 0.5, random: () => random } });
      mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      const delays = Array.from({ length: 6 }, () => q.addRateLimited('a'));
      delays.forEach((d, i) => {
        const nominal = Math.min(1000, 100 * 2 ** i);
        assert.ok(d <= nominal && d >= nominal / 2, `${d} within [${nominal / 2}, ${nominal}]`);
      });
      mock.timers.reset();
    }
  });

  it('adds a key after its requeueAfter delay, the earliest of several', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const q = new WorkQueue<string>();
    q.addAfter('a', 5000);
    q.addAfter('a', 1000);
    q.addAfter('a', 3000);
    assert.equal(q.length, 0);
    mock.timers.tick(999);
    assert.equal(q.length, 0);
    mock.timers.tick(1);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    mock.timers.tick(10_000);
    assert.equal(q.length, 0, 'the later delays were replaced, not kept');
  });

  it('drains on shutdown: queued keys are still handed out, new ones refused, then workers exit', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    const a = await q.get();
    assert.equal(a, 'a');
    let drained = false;
    const shutdown = q.shutdown({ drain: true }).then(() => {
      drained = true;
    });
    q.add('c');
    assert.equal(q.length, 1, 'c refused');
    assert.equal(await q.get(), 'b');
    await settle();
    assert.equal(drained, false, 'a and b in flight');
    q.done('a');
    q.done('b');
    await shutdown;
    assert.equal(drained, true);
    assert.equal(await q.get(), undefined);
  });

  it('shutdown without drain drops waiting keys and delayed ones, and waits for keys in flight', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    assert.equal(await q.get(), 'a');
    let drained = false;
    const shutdown = q.shutdown({ drain: false }).then(() => {
      drained = true;
    });
    assert.equal(q.length, 0);
    assert.equal(await q.get(), undefined);
    mock.timers.tick(1000);
    assert.equal(q.length, 0);
    await settle();
    assert.equal(drained, false);
    q.done('a');
    await shutdown;
    assert.equal(drained, true);
  });

  it('wakes idle workers on shutdown', async () => {
    const q = new WorkQueue<string>();
    const workers = runWorkers(q, 2, () => Promise.resolve());
    await settle();
    await q.shutdown({ drain: true });
    await workers;
  });

  it('reports depth, adds, retries and durations to its metrics hooks', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const seen = { depth: [] as number[], adds: 0, retries: 0, processed: 0 };
    const q = new WorkQueue<string>({
      metrics: {
        depth: (d) => seen.depth.push(d),
        add: () => seen.adds++,
        retry: () => seen.retries++,
        processingDuration: (s) => {
          assert.ok(s >= 0);
          seen.processed++;
        },
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.addRateLimited('a');
    assert.deepEqual(seen.depth, [1, 2, 1]);
    assert.equal(seen.adds, 3);
    assert.equal(seen.retries, 1);
    assert.equal(seen.processed, 1);
  });
});
