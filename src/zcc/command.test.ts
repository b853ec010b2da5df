import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../cli/command.ts';
import { parseListen } from './command.ts';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const zcsp = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, POD_NAMESPACE: '' } });

describe('zcsp zcc', () => {
  it('reads --listen as HOST:PORT, [IPv6]:PORT or :PORT', () => {
    assert.deepEqual(parseListen('0.0.0.0:9443'), { host: '0.0.0.0', port: 9443 });
    assert.deepEqual(parseListen('[::]:9443'), { host: '::', port: 9443 });
    assert.deepEqual(parseListen(':9443'), { host: undefined, port: 9443 });
    for (const bad of ['9443', 'host:', 'host:99999', '[::1:9443', 'a:b:1']) assert.throws(() => parseListen(bad), UsageError, bad);
  });

  it('names what is missing, without a stack trace', () => {
    const r = zcsp('zcc', '--routes', 'zcc-acme-routes', '--namespace', 'zcsp-system');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'zcsp zcc: --zorg is required');
    const n = zcsp('zcc', '--zorg', 'acme', '--routes', 'zcc-acme-routes');
    assert.equal(n.status, 2);
    assert.equal(n.stderr.trim(), 'zcsp zcc: --namespace (or $POD_NAMESPACE) is required');
  });

  it('fails to start without its credentials, naming the file', () => {
    const r = zcsp('zcc', '--zorg', 'acme', '--routes', 'r', '--namespace', 'ns', '--credentials-dir', '/nonexistent/zcc', '--health-port', '0', '--listen', '127.0.0.1:0');
    assert.equal(r.status, 1);
    // Every missing file, in the same order whichever read fails first.
    assert.match(r.stderr, /cannot read \/nonexistent\/zcc\/tls\.crt: ENOENT[^;]*; cannot read \/nonexistent\/zcc\/tls\.key: ENOENT[^;]*; cannot read \/nonexistent\/zcc\/token: ENOENT/);
  });

  it('is listed in the usage', () => {
    assert.match(zcsp().stdout, /zcc\s+run a tenant's connector/);
  });
});
