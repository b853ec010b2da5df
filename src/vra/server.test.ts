import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVraServer } from './server.ts';

describe('vra server', () => {
  it('is healthy and ready with a writable data directory', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'vra-')), 'data');
    const server = await startVraServer({ port: 0, host: '127.0.0.1', dataDir });
    try {
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const info = (await (await fetch(`${server.url}/`)).json()) as { dataDir: string };
      assert.equal(info.dataDir, dataDir);
    } finally {
      await server.close();
    }
  });
  it('is not ready when the data directory cannot be made', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'vra-'));
    const blocker = join(parent, 'file');
    writeFileSync(blocker, '');
    chmodSync(blocker, 0o400);
    const server = await startVraServer({ port: 0, host: '127.0.0.1', dataDir: join(blocker, 'data') });
    try {
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /not writable/);
    } finally {
      await server.close();
    }
  });
});
