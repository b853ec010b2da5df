import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from './args.ts';
import { checkTagName, parseCheckpoint, parseCommitPolicy } from './choices.ts';

describe('--checkpoint', () => {
  it('maps each form to spec.operation.checkpoint', () => {
    assert.deepEqual(parseCheckpoint('latest'), { type: 'Latest' });
    assert.deepEqual(parseCheckpoint('latest-tagged'), { type: 'LatestTagged' });
    assert.deepEqual(parseCheckpoint('2025-03-01T10:00:00Z'), { type: 'Time', time: '2025-03-01T10:00:00Z' });
    assert.deepEqual(parseCheckpoint('2025-03-01t10:00:00.5+02:00'), { type: 'Time', time: '2025-03-01T10:00:00.5+02:00' });
    assert.deepEqual(parseCheckpoint('before-upgrade'), { type: 'Named', name: 'before-upgrade' });
    assert.deepEqual(parseCheckpoint('cp-000123'), { type: 'Named', name: 'cp-000123' });
    // Not RFC 3339 (no offset): a name, as the API would take it.
    assert.deepEqual(parseCheckpoint('2025-03-01T10:00:00'), { type: 'Named', name: '2025-03-01T10:00:00' });
  });

  it('refuses impossible times and names the API would refuse', () => {
    assert.throws(() => parseCheckpoint('2025-13-45T99:00:00Z'), /not a valid time/);
    assert.throws(() => parseCheckpoint('x'.repeat(129)), UsageError);
    assert.throws(() => parseCheckpoint('a\tb'), /control characters/);
  });
});

describe('--commit-policy', () => {
  it('maps each form to spec.operation.commitPolicy', () => {
    assert.deepEqual(parseCommitPolicy('manual'), { type: 'Manual' });
    assert.deepEqual(parseCommitPolicy('auto-commit:5'), { type: 'AutoCommit', timeoutMinutes: 5 });
    assert.deepEqual(parseCommitPolicy('auto-rollback:0'), { type: 'AutoRollback', timeoutMinutes: 0 });
    assert.deepEqual(parseCommitPolicy('auto-commit:1440'), { type: 'AutoCommit', timeoutMinutes: 1440 });
  });

  it('refuses the rest', () => {
    for (const bad of ['auto-commit', 'auto-commit:', 'auto-commit:1441', 'auto-commit:-1', 'auto-commit:1.5', 'Manual', 'later']) {
      assert.throws(() => parseCommitPolicy(bad), UsageError, bad);
    }
  });
});

describe('tag names', () => {
  it('takes 1-128 characters, counted as the API server counts them', () => {
    assert.equal(checkTagName('before upgrade ✓'), 'before upgrade ✓');
    assert.equal(checkTagName('é'.repeat(128)), 'é'.repeat(128));
    assert.throws(() => checkTagName(''), /1-128 characters/);
    assert.throws(() => checkTagName('x'.repeat(129)), /1-128 characters \(it is 129\)/);
  });

  it('refuses control characters', () => {
    assert.throws(() => checkTagName('line\nbreak'), /control characters/);
    assert.throws(() => checkTagName('bell\u0007'), /control characters/);
  });
});
