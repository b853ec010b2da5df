import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from './client.ts';
import { EventRecorder } from './events.ts';
import type { Event } from './types.ts';

interface Fake {
  client: KubeClient;
  created: Event[];
  patches: { name: string; namespace: string | undefined; patch: unknown }[];
}

function fakeClient(): Fake {
  const fake: Fake = { client: undefined as unknown as KubeClient, created: [], patches: [] };
  fake.client = {
    create: (_r: unknown, ev: Event) => {
      fake.created.push(ev);
      return Promise.resolve(ev);
    },
    mergePatch: (_r: unknown, name: string, namespace: string | undefined, patch: unknown) => {
      fake.patches.push({ name, namespace, patch });
      return Promise.resolve({});
    },
  } as unknown as KubeClient;
  return fake;
}

const vpg = { apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'db', namespace: 'tenant-a', uid: 'u-1', resourceVersion: '7' } };
const site = { apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'prod', uid: 'u-2' } };
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('EventRecorder', () => {
  afterEach(() => mock.timers.reset());

  it('aggregates a hot loop of one event into one Event and one series update per flush', async () => {
    const f = fakeClient();
    const r = new EventRecorder({ client: f.client, reportingController: 'zcsp.io/manager', reportingInstance: 'pod-1_abcd' });
    for (let i = 0; i < 1000; i++) r.event(vpg, { type: 'Warning', reason: 'RpoNotMeetingSLA', action: 'Replicate', note: 'rpo 400 s' });
    await r.flush();
    await r.flush();
    assert.equal(f.created.length, 1);
    const [ev] = f.created;
    assert.ok(ev);
    assert.equal(ev.metadata?.namespace, 'tenant-a');
    assert.equal(ev.reportingController, 'zcsp.io/manager');
    assert.deepEqual(ev.regarding, { apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', name: 'db', namespace: 'tenant-a', uid: 'u-1', resourceVersion: '7' });
    assert.match(ev.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(f.patches.length, 1, 'one series write, however many repeats');
    const patch = f.patches[0]?.patch as { series: { count: number; lastObservedTime: string } };
    assert.equal(patch.series.count, 1000);
    await r.close();
  });

  it('writes series on a timer, and events of cluster-scoped objects into default', async () => {
    mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
    const f = fakeClient();
    const r = new EventRecorder({ client: f.client, reportingController: 'c', reportingInstance: 'i', seriesFlushMs: 10_000 });
    r.event(site, { type: 'Normal', reason: 'Paired', action: 'Pair' });
    r.event(site, { type: 'Normal', reason: 'Paired', action: 'Pair' });
    await settle();
    assert.equal(f.created[0]?.metadata?.namespace, 'default');
    assert.equal(f.patches.length, 0);
    mock.timers.tick(10_000);
    await settle();
    assert.equal(f.patches.length, 1);
    await r.close();
  });

  it('starts a new Event after the series window', async () => {
    mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
    const f = fakeClient();
    const r = new EventRecorder({ client: f.client, reportingController: 'c', reportingInstance: 'i', seriesWindowMs: 60_000 });
    r.event(vpg, { type: 'Normal', reason: 'Synced', action: 'Sync' });
    mock.timers.tick(61_000);
    r.event(vpg, { type: 'Normal', reason: 'Synced', action: 'Sync' });
    await settle();
    assert.equal(f.created.length, 2);
    await r.close();
  });

  it('rate limits new Events per object: a burst, then drops', async () => {
    mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
    const f = fakeClient();
    let dropped = 0;
    const r = new EventRecorder({ client: f.client, reportingController: 'c', reportingInstance: 'i', burst: 5, refillMs: 1000, metrics: { dropped: () => dropped++ } });
    for (let i = 0; i < 8; i++) r.event(vpg, { type: 'Normal', reason: `Step${i}`, action: 'Do' });
    r.event(site, { type: 'Normal', reason: 'Other', action: 'Do' });
    assert.equal(f.created.length, 6, '5 for the VPG, 1 for the Site');
    assert.equal(dropped, 3);
    mock.timers.tick(1000);
    r.event(vpg, { type: 'Normal', reason: 'Later', action: 'Do' });
    assert.equal(f.created.length, 7, 'a token came back');
    await r.close();
  });

  it('never throws when the API refuses', async () => {
    const r = new EventRecorder({
      client: { create: () => Promise.reject(new Error('forbidden')), mergePatch: () => Promise.reject(new Error('forbidden')) } as unknown as KubeClient,
      reportingController: 'c', reportingInstance: 'i',
    });
    r.event(vpg, { type: 'Warning', reason: 'X', action: 'Y' });
    r.event(vpg, { type: 'Warning', reason: 'X', action: 'Y' });
    await r.close();
  });
});
