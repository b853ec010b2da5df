import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LinkStore, SessionStore } from './sessions.ts';

describe('SessionStore', () => {
  it('makes 256-bit ids and finds the session by its id only', () => {
    const store = new SessionStore<string>();
    const a = store.create('a');
    const b = store.create('b');
    assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.id, b.id);
    assert.equal(store.touch(a.id)?.data, 'a');
    assert.equal(store.touch('x'.repeat(43)), undefined);
    assert.equal(store.touch(undefined), undefined);
  });

  it('ends a session after the idle time, and at the absolute expiry however active', () => {
    let now = 0;
    const store = new SessionStore<string>({ ttlMs: 10_000, idleMs: 3000, now: () => now });
    const idle = store.create('idle');
    const busy = store.create('busy');
    let closed = 0;
    idle.closers.add(() => closed++);
    for (now = 1000; now < 10_000; now += 1000) assert.ok(store.touch(busy.id), `busy at ${now}`);
    now = 9000;
    assert.equal(store.touch(idle.id), undefined, 'idle for more than 3 s');
    assert.equal(closed, 1, 'its closers ran');
    assert.equal(store.maxAgeSeconds(busy), 1);
    now = 10_000;
    assert.equal(store.touch(busy.id), undefined, 'absolute expiry');
    assert.equal(store.size, 0);
  });

  it('signs out: the id no longer works and the closers run once', () => {
    const store = new SessionStore<string>();
    const s = store.create('x');
    let closed = 0;
    s.closers.add(() => closed++);
    assert.equal(store.end(s.id), true);
    assert.equal(store.end(s.id), false);
    assert.equal(store.touch(s.id), undefined);
    assert.equal(closed, 1);
  });

  it('sweeps expired sessions', () => {
    let now = 0;
    const store = new SessionStore<string>({ idleMs: 100, now: () => now });
    store.create('a');
    store.create('b');
    now = 100;
    assert.equal(store.sweep(), 2);
  });
});

describe('LinkStore', () => {
  it('redeems a link once; the second use is gone, an unknown id unknown', () => {
    const links = new LinkStore<string>();
    const id = links.create('token-of-alice', 60_000);
    assert.deepEqual(links.redeem(id), { ok: true, data: 'token-of-alice' });
    assert.deepEqual(links.redeem(id), { ok: false, reason: 'gone' });
    assert.deepEqual(links.redeem('y'.repeat(43)), { ok: false, reason: 'unknown' });
  });

  it('refuses an expired link, drops its data at once and forgets the id later', () => {
    let now = 0;
    const links = new LinkStore<string>({ now: () => now, rememberMs: 1000 });
    const id = links.create('t', 500);
    now = 500;
    links.sweep();
    assert.deepEqual(links.redeem(id), { ok: false, reason: 'gone' });
    now = 1500;
    links.sweep();
    assert.equal(links.size, 0);
  });
});
