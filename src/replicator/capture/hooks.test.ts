import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookError, runHook } from './hooks.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'zcsp-hooks-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

const code = (c: string, re: RegExp) => (err: unknown) => err instanceof HookError && err.code === c && re.test(err.message);

describe('runHook', () => {
  it('runs a command with the extra environment', async () => {
    const out = join(base, 'env');
    await runHook('pre', { command: ['sh', '-c', 'echo "$ZCSP_X" > "$1"', 'sh', out], env: { ZCSP_X: 'frozen' } });
    assert.equal(await readFile(out, 'utf8'), 'frozen\n');
  });

  it('reports the exit code and the end of stderr', async () => {
    await assert.rejects(runHook('post', { command: ['sh', '-c', 'echo "cannot thaw" >&2; exit 3'] }), code('HOOK_FAILED', /^post hook "sh -c .*" exited with code 3: cannot thaw$/));
  });

  it('kills a hook that runs too long, with what it started', async () => {
    const marker = join(base, 'late');
    await assert.rejects(
      runHook('pre', { command: ['sh', '-c', `(sleep 2; touch ${marker}) & wait`], timeoutMs: 200 }),
      code('HOOK_TIMEOUT', /did not finish within 200 ms and was killed/),
    );
    await new Promise((resolve) => setTimeout(resolve, 2300));
    await assert.rejects(readFile(marker), /ENOENT/, 'the background child was killed too');
  });

  it('reports a command that cannot start', async () => {
    await assert.rejects(runHook('pre', { command: [join(base, 'no-such-program')] }), code('HOOK_SPAWN', /could not start: .*ENOENT/));
    await assert.rejects(runHook('pre', { command: [] }), code('HOOK_SPAWN', /the command is empty/));
  });

  it('reports a hook killed by a signal', async () => {
    await assert.rejects(runHook('pre', { command: ['sh', '-c', 'kill -TERM $$'] }), code('HOOK_FAILED', /was killed by SIGTERM/));
  });
});
