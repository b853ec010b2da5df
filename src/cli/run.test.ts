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
  it('loads no Kubernetes client until a command that needs one runs', () => {
    // Every role shares this executable; a VRA carrying the console's client library in its heap
    // pays for it at every garbage collection while it streams (its marking time grows with it).
    const script = `
      import { registerHooks } from 'node:module';
      const seen = new Set();
      registerHooks({ resolve(specifier, context, next) { seen.add(specifier); return next(specifier, context); } });
      await import(${JSON.stringify(new URL('./run.ts', import.meta.url).href)});
      process.stdout.write(JSON.stringify([...seen]));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout) as string[];
    assert.ok(loaded.some((s) => s.endsWith('/vra/command.ts')), `the hook saw the command modules: ${r.stdout}`);
    assert.deepEqual(loaded.filter((s) => s.startsWith('@kubernetes/')), []);
  });
  it('runs a command whose modules load when it starts', () => {
    const r = zcsp('console', '--kubeconfig', '/nonexistent/kubeconfig');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /zcsp console: .*\/nonexistent\/kubeconfig/);
  });
  it('prints its version', () => {
    const r = zcsp('version');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^zcsp \d+\.\d+\.\d+ \(node v24\./);
  });
});
