// The VRA's control API refuses what it must, with answers that name the problem, and a refused
// request changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Pair, STREAM, waitUntil } from './support/pair.ts';

describe('VRA control API', () => {
  let pair: Pair;
  before(async () => {
    pair = await Pair.start({ volumes: ['files'] });
  });
  after(async () => {
    await pair.close();
  });

  it('refuses a missing or wrong bearer token, the same way', async () => {
    for (const token of ['', 'not-the-token-at-all']) {
      const res = await pair.target.control('GET', '/v1/streams', undefined, token);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 'Unauthenticated', message: 'a valid bearer token is required' });
    }
  });

  it('names each bad field of a stream configuration, and stores nothing', async () => {
    const res = await pair.target.control<{ code: string; message: string }>('PUT', '/v1/streams/other-stream', {
      role: 'target', vpg: { namespace: 'acme-prod', name: 'web' }, token: 'short',
      volumes: [{ name: 'Bad_Name', kind: 'fs' }], historyHours: 9999,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'Invalid');
    assert.match(res.body.message, /token: /);
    assert.match(res.body.message, /volumes\.0\.name: must be a DNS subdomain/);
    assert.match(res.body.message, /historyHours: /);
    assert.equal(existsSync(join(pair.target.options.dataDir, 'streams', 'other-stream')), false);
    const bad = await pair.target.control<{ message: string }>('PUT', '/v1/streams/Not_An_Id', pair.targetConfig());
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^id: /);
    const notJson = await pair.target.control<{ message: string }>('PUT', '/v1/streams/x', undefined);
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.message, /not JSON/);
  });

  it('keeps a stream\'s role: a target cannot become a source in place', async () => {
    const res = await pair.target.control<{ code: string; message: string }>('PUT', `/v1/streams/${STREAM}`, await pair.sourceConfig());
    assert.equal(res.status, 409);
    assert.match(res.body.message, /is a target here; delete it before configuring it as a source/);
  });

  it('materialises only into the folders it may restore into', async () => {
    const seq = await pair.checkpoint('first');
    const res = await pair.target.control<{ message: string }>('POST', `/v1/streams/${STREAM}/materialise`, { checkpoint: seq, targets: { files: '/etc/zcsp-evil' } });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /targets\.files: "\/etc\/zcsp-evil" is not under a folder this VRA may restore into/);
    const dotdot = await pair.target.control<{ message: string }>('POST', `/v1/streams/${STREAM}/materialise`, { checkpoint: seq, targets: { files: `${pair.restoreRoot}/../escape` } });
    assert.equal(dotdot.status, 400);
    const unknown = await pair.target.control<{ message: string }>('POST', `/v1/streams/${STREAM}/materialise`, { checkpoint: 999_999, targets: { files: join(pair.restoreRoot, 'x') } });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /no recoverable checkpoint 999999/);
    assert.equal(existsSync(join(pair.restoreRoot, 'x')), false);
  });

  it('a source with the wrong stream token is refused and the journal stays as it was', async () => {
    const before = await pair.targetStatus();
    const config = { ...(await pair.sourceConfig()), token: 'a-wrong-token-of-enough-length' };
    await pair.source.ok('PUT', `/v1/streams/${STREAM}`, config);
    const status = await waitUntil('the refusal to show', async () => {
      const s = await pair.sourceStatus();
      return s.lastError !== undefined && /invalid credentials/i.test(s.lastError) ? s : undefined;
    });
    assert.equal(status.connected, false);
    assert.equal((await pair.targetStatus())['durableSeq'], before['durableSeq']);
    // Put the right token back: replication resumes.
    await pair.configureSource();
    await pair.checkpoint('resumed');
  });

  it('deletes a stream and its data, or keeps the data when asked', async () => {
    const dir = join(pair.target.options.dataDir, 'streams', STREAM);
    assert.equal((await pair.target.control('DELETE', `/v1/streams/${STREAM}?keepData=true`)).status, 200);
    assert.equal(existsSync(join(dir, 'journal')), true, 'journal kept');
    assert.equal(existsSync(join(dir, 'config.json')), false);
    assert.equal((await pair.target.control('DELETE', `/v1/streams/${STREAM}`)).status, 404);
    await pair.configureTarget();
    assert.equal((await pair.target.control('DELETE', `/v1/streams/${STREAM}`)).status, 200);
    assert.equal(existsSync(dir), false, 'journal and replica gone');
  });
});
