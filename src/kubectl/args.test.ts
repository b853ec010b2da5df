import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, parseArgs, parseDuration, type FlagSpecs } from './args.ts';

const specs: FlagSpecs = {
  namespace: { type: 'string', short: 'n', help: '' },
  wait: { type: 'boolean', help: '' },
  checkpoint: { type: 'string', help: '' },
  'all-namespaces': { type: 'boolean', short: 'A', help: '' },
};

describe('parseArgs', () => {
  it('separates positionals and flags in any order, in every spelling kubectl users write', () => {
    const { positionals, flags } = parseArgs(['test', '-n', 'acme', 'web', '--checkpoint=latest-tagged', '--wait=false'], specs);
    assert.deepEqual(positionals, ['test', 'web']);
    assert.equal(flags.string('namespace'), 'acme');
    assert.equal(flags.string('checkpoint'), 'latest-tagged');
    assert.equal(flags.boolean('wait', true), false);
    assert.deepEqual(parseArgs(['-nacme'], specs).flags.string('namespace'), 'acme');
    assert.deepEqual(parseArgs(['-n=acme'], specs).flags.string('namespace'), 'acme');
    assert.deepEqual(parseArgs(['--namespace', 'acme'], specs).flags.string('namespace'), 'acme');
  });

  it('takes a bare boolean as true, and the default when absent', () => {
    assert.equal(parseArgs(['--wait'], specs).flags.boolean('wait', false), true);
    assert.equal(parseArgs(['--wait=true'], specs).flags.boolean('wait', false), true);
    assert.equal(parseArgs([], specs).flags.boolean('wait', true), true);
    assert.equal(parseArgs(['-A'], specs).flags.boolean('all-namespaces', false), true);
  });

  it('lets the last of a repeated flag win and -- end the flags', () => {
    const { positionals, flags } = parseArgs(['-n', 'a', '-n', 'b', 'tag', 'web', '--', '-odd-tag'], specs);
    assert.equal(flags.string('namespace'), 'b');
    assert.deepEqual(positionals, ['tag', 'web', '-odd-tag']);
    assert.deepEqual(flags.names(), ['namespace']);
  });

  it('refuses unknown flags, missing values and booleans that are not true or false', () => {
    assert.throws(() => parseArgs(['--bogus'], specs), (e: unknown) => e instanceof UsageError && /unknown flag --bogus/.test(e.message));
    assert.throws(() => parseArgs(['-x'], specs), /unknown flag -x/);
    assert.throws(() => parseArgs(['--checkpoint'], specs), /--checkpoint needs a value/);
    assert.throws(() => parseArgs(['--checkpoint', '--wait'], specs), /--checkpoint needs a value/);
    assert.throws(() => parseArgs(['--wait=no'], specs), /"no" is not true or false/);
  });
});

describe('parseDuration', () => {
  it('reads Go durations', () => {
    assert.equal(parseDuration('--timeout', '30m'), 1_800_000);
    assert.equal(parseDuration('--timeout', '1h30m'), 5_400_000);
    assert.equal(parseDuration('--timeout', '90s'), 90_000);
    assert.equal(parseDuration('--timeout', '1.5h'), 5_400_000);
    assert.equal(parseDuration('--timeout', '500ms'), 500);
  });

  it('refuses what is not one, and zero', () => {
    for (const bad of ['30', '', 'm', '10x', '5m junk', '-5m']) assert.throws(() => parseDuration('--timeout', bad), UsageError, bad);
    assert.throws(() => parseDuration('--timeout', '0s'), /more than zero/);
  });
});
