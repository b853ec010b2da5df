import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const zcsp = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

describe('zcsp entrypoint', () => {
  it('lists its commands and exits 2 without one', () => {
    const r = zcsp();
    assert.equal(r.status, 2);
    assert.match(r.stdout, /usage: zcsp <command>/);
    assert.match(r.stdout, /diag/);
  });
  it('names an unknown command', () => {
    const r = zcsp('frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });
  it('reports bad options with the option name, without a stack trace', () => {
    const r = zcsp('diag', '--port', '99999');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'zcsp diag: --port: "99999" is not a port number (0-65535)');
    const u = zcsp('diag', '--bogus');
    assert.equal(u.status, 2);
    assert.match(u.stderr, /zcsp diag: Unknown option '--bogus'/);
    const e = zcsp('diag', '--stamp', '/tmp/x', '--stamp-every', 'soon');
    assert.equal(e.status, 2);
    assert.equal(e.stderr.trim(), 'zcsp diag: --stamp-every: "soon" is not a number of seconds between 0.1 and 86400');
    const n = zcsp('diag', '--stamp-every', '5');
    assert.equal(n.status, 2);
    assert.equal(n.stderr.trim(), 'zcsp diag: --stamp-every needs --stamp FILE');
  });
  it('prints its version', () => {
    const r = zcsp('version');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^zcsp \d+\.\d+\.\d+ \(node v24\./);
  });
});
