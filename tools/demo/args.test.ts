import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDemoArgs, UsageError } from './args.ts';

describe('demo arguments', () => {
  it('applies the examples unless --no-examples', () => {
    assert.deepEqual(parseDemoArgs([]), { examples: true, help: false });
    assert.deepEqual(parseDemoArgs(['--no-examples']), { examples: false, help: false });
    assert.deepEqual(parseDemoArgs(['-h']), { examples: true, help: true });
  });
  it('names an unknown flag or argument, and shows the usage', () => {
    for (const [args, named] of [[['--keep'], 'unknown option --keep'], [['-x'], 'unknown option -x'], [['now'], 'unexpected argument now']] as const) {
      assert.throws(() => parseDemoArgs(args), (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.match(err.message, new RegExp(`^npm run demo: ${named}\n`));
        assert.match(err.message, /--no-examples/);
        return true;
      });
    }
  });
});
