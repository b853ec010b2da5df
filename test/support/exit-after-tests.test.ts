import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('./exit-after-tests.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'zcsp-exit-after-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const many = Array.from({ length: 3 }, (_, s) => `describe('s${s}', () => { for (let i = 0; i < 40; i++) it('t' + i, () => {}); });`).join('\n');
writeFileSync(join(dir, 'many.test.mjs'), `import { describe, it } from 'node:test';\n${many}\n`);
writeFileSync(join(dir, 'leaks.test.mjs'), `import { it } from 'node:test';\nit('leaves an interval running', () => { setInterval(() => {}, 1000); });\n`);
writeFileSync(join(dir, 'fails.test.mjs'), `import { it } from 'node:test';\nit('fails and leaves an interval running', () => { setInterval(() => {}, 1000); throw new Error('boom'); });\n`);

function run(...files: string[]): { status: number | null; out: string; err: string } {
  // A runner of its own: without the variable that tells a process it runs under this one.
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', `--import=${PRELOAD}`, ...files], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('exit-after-tests', () => {
  it('reports every test of every file, and ends a file whose tests left something open', () => {
    const r = run('many.test.mjs', 'leaks.test.mjs');
    assert.equal(r.status, 0, r.out + r.err);
    assert.match(r.out, /ℹ tests 121\n/);
    assert.match(r.out, /ℹ pass 121\n/);
    // The runner passes a file's stderr on in its report.
    // It says what holds the process open: the interval.
    assert.match(r.out, /leaks\.test\.mjs: still open 2000 ms after its tests ended \(Timeout\); exiting/);
  });

  it('keeps a failure a failure', () => {
    const r = run('many.test.mjs', 'fails.test.mjs');
    assert.equal(r.status, 1, r.out + r.err);
    assert.match(r.out, /ℹ tests 121\n/);
    assert.match(r.out, /ℹ fail 1\n/);
  });
});
