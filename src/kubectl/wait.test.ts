// The watch loop against a scripted feed: it follows every version, opens the watch again where
// the last one ended, reads afresh after 410, and fails on deletion, refusal and timeout.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEventType } from '../runtime/client.ts';
import { CommandError } from './errors.ts';
import type { Follower } from './follow.ts';
import type { Vpg } from './vpg.ts';
import { follow, type VpgFeed } from './wait.ts';

const version = (rv: number, rpoSeconds?: number): Vpg =>
  ({ metadata: { name: 'web', namespace: 'acme', resourceVersion: String(rv) }, status: rpoSeconds === undefined ? {} : { rpoSeconds } });

interface OpenWatch {
  resourceVersion: string;
  event(type: WatchEventType, object: unknown): void;
  end(err?: unknown): void;
  controller: AbortController;
}

/** A feed the test drives: each watch the loop opens is handed to the test in order. */
class ScriptedFeed implements VpgFeed {
  readonly opened: OpenWatch[] = [];
  gets = 0;
  fresh: Vpg = version(0);
  #waiting: ((w: OpenWatch) => void)[] = [];

  get(): Promise<Vpg> {
    this.gets++;
    return Promise.resolve(this.fresh);
  }

  watch(resourceVersion: string, onEvent: (type: WatchEventType, object: unknown) => void, onDone: (err: unknown) => void): Promise<AbortController> {
    const controller = new AbortController();
    const w: OpenWatch = { resourceVersion, controller, event: onEvent, end: (err?: unknown) => onDone(err ?? null) };
    this.opened.push(w);
    this.#waiting.shift()?.(w);
    return Promise.resolve(controller);
  }

  /** The n-th watch (0-based), once the loop has opened it. */
  async nth(n: number): Promise<OpenWatch> {
    while (this.opened.length <= n) await new Promise<OpenWatch>((resolve) => this.#waiting.push(resolve));
    return this.opened[n] as OpenWatch;
  }
}

/** Done when the RPO reaches `rpo`, with the resourceVersion it was seen at. */
const rpoReaches = (rpo: number): Follower<string> => ({
  observe: (v) => (v.status?.rpoSeconds === rpo ? { lines: [`rpo ${rpo}`], done: v.metadata?.resourceVersion ?? '' } : { lines: [] }),
});

const options = (lines: string[] = []) => ({ timeoutMs: 5000, what: 'the test', progress: (l: string) => lines.push(l), retryMs: 1 });

describe('follow', () => {
  it('is done at once when the first version already has it, without watching', async () => {
    const feed = new ScriptedFeed();
    assert.equal(await follow(feed, version(7, 0), rpoReaches(0), options()), '7');
    assert.equal(feed.opened.length, 0);
  });

  it('watches from the first version\'s resourceVersion and stops watching when done', async () => {
    const feed = new ScriptedFeed();
    const lines: string[] = [];
    const result = follow(feed, version(7), rpoReaches(2), options(lines));
    const w = await feed.nth(0);
    assert.equal(w.resourceVersion, '7');
    w.event('MODIFIED', version(8, 1));
    w.event('MODIFIED', version(9, 2));
    assert.equal(await result, '9');
    assert.deepEqual(lines, ['rpo 2']);
    assert.equal(w.controller.signal.aborted, true);
  });

  it('opens the watch again where it ended, from the last resourceVersion seen (events or bookmarks)', async () => {
    const feed = new ScriptedFeed();
    const result = follow(feed, version(7), rpoReaches(2), options());
    const first = await feed.nth(0);
    first.event('MODIFIED', version(8, 1));
    first.event('BOOKMARK', { metadata: { resourceVersion: '12' } });
    first.end();
    const second = await feed.nth(1);
    assert.equal(second.resourceVersion, '12');
    second.end(new Error('socket hang up'));
    const third = await feed.nth(2);
    assert.equal(third.resourceVersion, '12');
    third.event('MODIFIED', version(13, 2));
    assert.equal(await result, '13');
    assert.equal(feed.gets, 0);
  });

  it('reads the object afresh after 410 Gone (an ERROR event or a failed watch), then watches from there', async () => {
    const feed = new ScriptedFeed();
    const result = follow(feed, version(7), rpoReaches(3), options());
    const first = await feed.nth(0);
    feed.fresh = version(40, 1);
    first.event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    first.end();
    const second = await feed.nth(1);
    assert.equal(feed.gets, 1);
    assert.equal(second.resourceVersion, '40');
    feed.fresh = version(50, 3);
    second.end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    assert.equal(await result, '50');
    assert.equal(feed.gets, 2);
  });

  it('fails when the VPG is deleted', async () => {
    const feed = new ScriptedFeed();
    const result = follow(feed, version(7), rpoReaches(2), options());
    (await feed.nth(0)).event('DELETED', version(8));
    await assert.rejects(result, (e: unknown) => e instanceof CommandError && /VPG web was deleted while waiting for the test/.test(e.message));
  });

  it('fails when the watch is forbidden', async () => {
    const feed = new ScriptedFeed();
    const result = follow(feed, version(7), rpoReaches(2), options());
    (await feed.nth(0)).end(Object.assign(new Error('Forbidden'), { statusCode: 403 }));
    await assert.rejects(result, /cannot watch VPG web \(HTTP 403\)/);
  });

  it('times out, naming what it waited for', async () => {
    const feed = new ScriptedFeed();
    await assert.rejects(follow(feed, version(7), rpoReaches(2), { ...options(), timeoutMs: 50 }),
      (e: unknown) => e instanceof CommandError && e.message === 'timed out after 0s waiting for the test');
  });

  it('shows the last version to the follower again as time passes', async () => {
    const feed = new ScriptedFeed();
    let calls = 0;
    const patient: Follower<number> = { observe: () => (++calls >= 3 ? { lines: [], done: calls } : { lines: [] }) };
    assert.equal(await follow(feed, version(7), patient, { ...options(), tickMs: 5 }), 3);
  });
});
