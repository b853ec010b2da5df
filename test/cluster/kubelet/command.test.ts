import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerArgv, zcspWrapperScript } from './command.ts';
import { lookupIn } from './expand.ts';

const runtime = { nodeBinary: '/opt/node24/bin/node', repoRoot: '/work/main/', preloadPath: '/k/listen-preload.ts' };
const node = ['/opt/node24/bin/node', '--import', '/k/listen-preload.ts'];
const env = lookupIn({ PORT: '8080', DIR: '/data' });

describe('containerArgv', () => {
  it('runs the zcsp entrypoint when there is no command', () => {
    assert.deepEqual(containerArgv({ name: 'c', args: ['diag', '--port', '$(PORT)'] }, env, runtime), [
      ...node,
      '/work/main/src/main.ts',
      'diag',
      '--port',
      '8080',
    ]);
  });

  it('maps command zcsp (bare or as a path) to the entrypoint', () => {
    for (const zcsp of ['zcsp', '/usr/local/bin/zcsp']) {
      assert.deepEqual(containerArgv({ name: 'c', command: [zcsp, 'diag'], args: ['--stamp', '$(DIR)/s.json'] }, env, runtime), [
        ...node,
        '/work/main/src/main.ts',
        'diag',
        '--stamp',
        '/data/s.json',
      ]);
    }
  });

  it('maps command node to the Node 24 binary with the preload', () => {
    assert.deepEqual(containerArgv({ name: 'c', command: ['node', '-e', 'x'] }, env, runtime), [...node, '-e', 'x']);
    assert.deepEqual(containerArgv({ name: 'c', command: ['/usr/bin/node', 'app.js'] }, env, runtime), [...node, 'app.js']);
  });

  it('runs any other command as given, expanded', () => {
    assert.deepEqual(containerArgv({ name: 'c', command: ['sh', '-c'], args: ['echo $(PORT) $$(PORT) $HOME'] }, env, runtime), [
      'sh',
      '-c',
      'echo 8080 $(PORT) $HOME',
    ]);
  });

  it('writes a zcsp wrapper that quotes its paths', () => {
    const script = zcspWrapperScript({ ...runtime, repoRoot: "/it's" });
    assert.equal(script, `#!/bin/sh\nexec '/opt/node24/bin/node' --import '/k/listen-preload.ts' '/it'\\''s/src/main.ts' "$@"\n`);
  });
});
