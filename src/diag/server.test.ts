import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDiagServer } from './server.ts';

const root = mkdtempSync(join(tmpdir(), 'zcsp-diag-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('diag server', () => {
  it('answers health and identity, and writes the stamp first', async () => {
    const stampFile = join(mkdtempSync(join(root, 'diag-')), 'stamp.json');
    const server = await startDiagServer({ port: 0, host: '127.0.0.1', stampFile });
    try {
      assert.equal(await (await fetch(`${server.url}/healthz`)).text(), 'ok');
      const info = (await (await fetch(`${server.url}/`)).json()) as { stampFile: string; stamp: { writtenAt: string } };
      assert.equal(info.stampFile, stampFile);
      assert.deepEqual(JSON.parse(readFileSync(stampFile, 'utf8')), info.stamp);
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('rewrites the stamp with a new seq every interval, always whole', async () => {
    const stampFile = join(mkdtempSync(join(root, 'diag-')), 'stamp.json');
    const server = await startDiagServer({ port: 0, host: '127.0.0.1', stampFile, stampEveryMs: 20 });
    try {
      const first = JSON.parse(readFileSync(stampFile, 'utf8')) as { seq: number };
      assert.equal(first.seq, 1);
      let last = first.seq;
      const deadline = Date.now() + 10_000;
      while (last < 5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
        last = (JSON.parse(readFileSync(stampFile, 'utf8')) as { seq: number }).seq; // never a torn file
      }
      assert.ok(last >= 5, `seq reached ${last}`);
    } finally {
      await server.close();
    }
  });

  it('fails to start when the stamp cannot be written', async () => {
    await assert.rejects(startDiagServer({ port: 0, host: '127.0.0.1', stampFile: '/nonexistent/dir/stamp.json' }), /ENOENT/);
  });
});
