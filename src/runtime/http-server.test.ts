import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpServer } from './http-server.ts';
import { PROMETHEUS_CONTENT_TYPE, Registry } from './metrics.ts';

describe('HTTP server', () => {
  it('serves /metrics, /healthz and /readyz with its checks', async () => {
    const registry = new Registry();
    registry.counter({ name: 'zcsp_test_total', help: 'Test.' }).inc({});
    let synced = false;
    const server = await startHttpServer({
      port: 0, host: '127.0.0.1', registry,
      health: [{ name: 'ping', check: () => undefined }],
      ready: [{ name: 'informers', check: () => (synced ? undefined : 'caches not synced') }],
    });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      assert.equal(metrics.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
      assert.match(await metrics.text(), /^zcsp_test_total 1$/m);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const notReady = await fetch(`${server.url}/readyz?verbose`);
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /\[-\]informers failed: caches not synced/);
      synced = true;
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), 'ok\n');
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
