import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { POD_IP_ENV, rewriteListenArgs } from './listen-preload.ts';

const IP = '127.0.41.7';
const cb = (): void => undefined;

describe('rewriteListenArgs', () => {
  it('puts the pod IP in place of a missing or wildcard host', () => {
    assert.deepEqual(rewriteListenArgs([8080], IP), [8080, IP]);
    assert.deepEqual(rewriteListenArgs([8080, cb], IP), [8080, IP, cb]);
    assert.deepEqual(rewriteListenArgs([8080, 511, cb], IP), [8080, IP, 511, cb]);
    assert.deepEqual(rewriteListenArgs([8080, '0.0.0.0', cb], IP), [8080, IP, cb]);
    assert.deepEqual(rewriteListenArgs([8080, '::', 511, cb], IP), [8080, IP, 511, cb]);
    assert.deepEqual(rewriteListenArgs(['8080', ''], IP), ['8080', IP]);
    assert.deepEqual(rewriteListenArgs([8080, undefined, cb], IP), [8080, IP, cb]);
    assert.deepEqual(rewriteListenArgs([], IP), [0, IP]);
    assert.deepEqual(rewriteListenArgs([cb], IP), [0, IP, cb]);
    assert.deepEqual(rewriteListenArgs([{ port: 80 }, cb], IP), [{ port: 80, host: IP }, cb]);
    assert.deepEqual(rewriteListenArgs([{ port: 80, host: '0.0.0.0', ipv6Only: false }], IP), [{ port: 80, host: IP, ipv6Only: false }]);
  });

  it('leaves explicit hosts, pipes and handles alone', () => {
    assert.deepEqual(rewriteListenArgs([8080, '127.0.0.1', cb], IP), [8080, '127.0.0.1', cb]);
    assert.deepEqual(rewriteListenArgs([{ port: 80, host: 'localhost' }], IP), [{ port: 80, host: 'localhost' }]);
    assert.deepEqual(rewriteListenArgs(['/tmp/app.sock', cb], IP), ['/tmp/app.sock', cb]);
    assert.deepEqual(rewriteListenArgs([{ path: '/tmp/app.sock' }], IP), [{ path: '/tmp/app.sock' }]);
    assert.deepEqual(rewriteListenArgs([{ fd: 3 }], IP), [{ fd: 3 }]);
  });

  it('makes a real node server on 0.0.0.0 listen on the pod IP', async () => {
    const preload = fileURLToPath(new URL('./listen-preload.ts', import.meta.url));
    const script = `
      const http = require('node:http');
      const a = http.createServer().listen(0, '0.0.0.0', () => {
        const b = require('node:net').createServer().listen(() => {
          console.log(JSON.stringify([a.address().address, b.address().address]));
          a.close(); b.close();
        });
      });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', preload, '-e', script], {
      env: { ...process.env, [POD_IP_ENV]: IP },
    });
    assert.deepEqual(JSON.parse(stdout), [IP, IP]);
  });
});
